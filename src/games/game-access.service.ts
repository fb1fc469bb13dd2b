import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { prepared } from '../database/prepared.js';
import { PreparedStatementRunner } from '../database/prepared-statements.js';
import type { AuthContext } from '../auth/auth-context.js';
import { forbidden, notFound } from '../common/domain-error.js';
import { canAccess, isUuid } from './tenancy.js';

export interface GameRow {
  id: string;
  externalGameId: string;
  platform: string;
  strategyId: string;
  owner: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface ParamRow {
  id: string;
  key: string;
  value: string | number | boolean;
}

export const GAME_COLUMNS = `id, external_game_id AS "externalGameId", platform, strategy_id AS "strategyId", owner,
  created_at AS "createdAt", updated_at AS "updatedAt"`;

const GAME_BY_ID = prepared('game_by_id', `SELECT ${GAME_COLUMNS} FROM games WHERE id = $1 AND deleted_at IS NULL`);

export const gameNotFound = (gameId: string) => notFound(`Game not found by gameId: ${gameId}`);

/** Someone else's game → 403 (API.md §2). */
export function assertGameAccess(auth: AuthContext, game: Pick<GameRow, 'owner'>): void {
  if (!canAccess(auth, game.owner)) throw forbidden('You do not have permission to access this game');
}

/** Loads games for a caller: unknown (or malformed, or deleted) → 404, someone else's → 403 (API.md §2). */
@Injectable()
export class GameAccess {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly statements: PreparedStatementRunner,
  ) {}

  async require(auth: AuthContext, gameId: string): Promise<GameRow> {
    if (!isUuid(gameId)) throw gameNotFound(gameId);
    const [game] = await this.statements.run<GameRow>(GAME_BY_ID, [gameId]);
    if (!game) throw gameNotFound(gameId);
    assertGameAccess(auth, game);
    return game;
  }

  async params(gameId: string, manager: EntityManager = this.dataSource.manager): Promise<ParamRow[]> {
    return (await manager.query(`SELECT id, key, value FROM game_params WHERE game_id = $1 ORDER BY created_at, key`, [gameId])) as ParamRow[];
  }
}
