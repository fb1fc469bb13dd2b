import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditLogger } from '../audit/audit-logger.service.js';
import type { AuthContext } from '../auth/auth-context.js';
import { conflict, notFound, unprocessable } from '../common/domain-error.js';
import { resolvePage, toPage, type Page } from '../common/pagination.js';
import { validationFailed } from '../common/validation.js';
import { StrategyRegistry } from '../strategies/strategy-registry.js';
import type { EffectiveStrategyDto } from '../strategies/strategy.dto.js';
import type { ScoringStrategy } from '../strategies/strategy.js';
import {
  GameDto,
  GameUsersDto,
  GameWithMessageDto,
  type CreateGameDto,
  type DuplicateGameDto,
  type ListGamesQueryDto,
  type UpdateGameDto,
} from './dto/game.dto.js';
import { GAME_COLUMNS, GameAccess, type GameRow, type ParamRow } from './game-access.service.js';
import { assertValidParams, duplicateKeyErrors, insertParams, isUniqueViolation } from './params.js';
import { containsPattern, ownerKeyOf, stampsOf } from './tenancy.js';
import { paramsJson } from './params-json.js';
import { PreparedStatementRunner } from '../database/prepared-statements.js';

const GAME_ORDERINGS = { created_at: 'created_at', externalGameId: 'external_game_id', platform: 'platform' };

export const EMPTY_PATCH = 'Empty patch: no fields provided.';

export function isEmptyPatch(dto: object): boolean {
  return Object.values(dto).every((value) => value === undefined);
}

export function toGameDto(game: GameRow, params: ParamRow[]): GameDto {
  return {
    gameId: game.id,
    externalGameId: game.externalGameId,
    platform: game.platform,
    strategyId: game.strategyId,
    params: params.map(({ id, key, value }) => ({ id, key, value })),
    created_at: game.createdAt,
    updated_at: game.updatedAt,
  };
}

export function toEffectiveStrategy(
  registry: StrategyRegistry,
  strategy: ScoringStrategy,
  gameParams: readonly ParamRow[],
  taskParams: readonly ParamRow[] = [],
): EffectiveStrategyDto {
  return {
    id: strategy.id,
    name: strategy.name,
    description: strategy.description,
    version: strategy.version,
    variables: registry.resolveVariables(strategy, gameParams, taskParams),
  };
}

@Injectable()
export class GamesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly statements: PreparedStatementRunner,
    private readonly access: GameAccess,
    private readonly registry: StrategyRegistry,
    private readonly audit: AuditLogger,
  ) {}

  async list(auth: AuthContext, query: ListGamesQueryDto): Promise<Page<GameDto>> {
    const page = resolvePage(query, GAME_ORDERINGS, '-created_at');
    const where: string[] = ['deleted_at IS NULL'];
    const args: unknown[] = [];
    if (!auth.isAdmin) {
      args.push(ownerKeyOf(auth));
      where.push(`owner = $${args.length}`);
    }
    if (query.externalGameId !== undefined) {
      args.push(containsPattern(query.externalGameId));
      where.push(`external_game_id ILIKE $${args.length}`);
    }
    if (query.platform !== undefined) {
      args.push(containsPattern(query.platform));
      where.push(`platform ILIKE $${args.length}`);
    }
    const filter = where.join(' AND ');
    // One round trip: the page, each game's params and the total (a window count, taken before LIMIT). The text
    // depends only on the filters and ordering present, so it is prepared once per connection and kind of list.
    const games = await this.statements.run<GameRow & { params: ParamRow[]; total: number }>(
      PreparedStatementRunner.forText(
        `SELECT ${GAME_COLUMNS}, ${paramsJson('game_params', 'games.id')} AS params, count(*) OVER ()::int AS total
         FROM games WHERE ${filter}
         ORDER BY ${page.column} ${page.direction}, id ${page.direction} LIMIT $${args.length + 1} OFFSET $${args.length + 2}`,
      ),
      [...args, page.pageSize, page.offset],
    );
    // A page past the end has no row to carry the total.
    const total =
      games[0]?.total ??
      (page.offset === 0
        ? 0
        : (await this.statements.run<{ total: number }>(PreparedStatementRunner.forText(`SELECT count(*)::int AS total FROM games WHERE ${filter}`), args))[0]
            .total);
    return toPage(
      games.map((game) => toGameDto(game, game.params)),
      total,
      page,
    );
  }

  async create(auth: AuthContext, dto: CreateGameDto): Promise<GameWithMessageDto> {
    const strategy = this.registry.require(dto.strategyId ?? 'default');
    const params = dto.params ?? [];
    assertValidParams(this.registry, strategy, params);
    const owner = ownerKeyOf(auth);
    const stamps = stampsOf(auth);
    const game = await this.inTransaction(async (manager) => {
      await this.assertExternalIdFree(manager, owner, dto.externalGameId);
      const [created] = (await manager.query(
        `INSERT INTO games (external_game_id, platform, strategy_id, owner, api_key_used, oauth_user_id)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${GAME_COLUMNS}`,
        [dto.externalGameId, dto.platform, strategy.id, owner, stamps.apiKeyUsed, stamps.oauthUserId],
      )) as GameRow[];
      await insertParams(manager, 'game_params', created.id, params, stamps);
      await this.audit.log(
        auth,
        { module: 'games', message: 'Game created', details: { gameId: created.id, externalGameId: created.externalGameId, strategyId: strategy.id } },
        manager,
      );
      return created;
    }, dto.externalGameId);
    return { ...toGameDto(game, await this.access.params(game.id)), message: `Game with gameId: ${game.id} created successfully` };
  }

  async get(auth: AuthContext, gameId: string): Promise<GameDto> {
    const game = await this.access.require(auth, gameId);
    return toGameDto(game, await this.access.params(game.id));
  }

  async update(auth: AuthContext, gameId: string, dto: UpdateGameDto): Promise<GameWithMessageDto> {
    if (isEmptyPatch(dto)) throw unprocessable(EMPTY_PATCH);
    const game = await this.access.require(auth, gameId);
    const strategy = this.registry.require(dto.strategyId ?? game.strategyId);
    const existing = await this.access.params(game.id);
    const patches = dto.params ?? [];
    const duplicates = duplicateKeyErrors(patches);
    if (duplicates.length > 0) throw validationFailed(duplicates);
    for (const patch of patches) {
      if (patch.id !== undefined && !existing.some((param) => param.id === patch.id)) {
        throw notFound(`GameParams not found (id) : ${patch.id}`);
      }
    }
    // The params as they will be after the patch, checked against the strategy they will run with.
    const final = existing.map((param) => ({ key: param.key, value: param.value, id: param.id as string | undefined, patchIndex: -1 }));
    patches.forEach((patch, patchIndex) => {
      const target = patch.id !== undefined ? final.find((param) => param.id === patch.id) : final.find((param) => param.key === patch.key);
      if (target) Object.assign(target, { key: patch.key, value: patch.value, patchIndex });
      else final.push({ key: patch.key, value: patch.value, id: undefined, patchIndex });
    });
    const errors = this.registry.checkParams(strategy, patches);
    for (const error of this.registry.checkParams(strategy, final.filter((param) => param.patchIndex === -1))) {
      errors.push({ field: 'strategyId', message: `an existing param does not fit strategy ${strategy.id}: ${error.message}` });
    }
    const finalKeys = final.map((param) => param.key);
    if (new Set(finalKeys).size !== finalKeys.length) errors.push({ field: 'params', message: 'params would end up with the same key twice' });
    if (errors.length > 0) throw validationFailed(errors);

    const stamps = stampsOf(auth);
    await this.inTransaction(async (manager) => {
      if (dto.externalGameId !== undefined && dto.externalGameId !== game.externalGameId) {
        await this.assertExternalIdFree(manager, game.owner, dto.externalGameId);
      }
      await manager.query(
        `UPDATE games SET external_game_id = COALESCE($2, external_game_id), platform = COALESCE($3, platform),
           strategy_id = $4, updated_at = now() WHERE id = $1`,
        [game.id, dto.externalGameId ?? null, dto.platform ?? null, strategy.id],
      );
      for (const patch of patches) {
        if (patch.id) {
          await manager.query(`UPDATE game_params SET key = $2, value = $3::jsonb WHERE id = $1`, [patch.id, patch.key, JSON.stringify(patch.value)]);
        } else {
          await manager.query(
            `INSERT INTO game_params (game_id, key, value, api_key_used, oauth_user_id) VALUES ($1, $2, $3::jsonb, $4, $5)
             ON CONFLICT (game_id, key) DO UPDATE SET value = EXCLUDED.value`,
            [game.id, patch.key, JSON.stringify(patch.value), stamps.apiKeyUsed, stamps.oauthUserId],
          );
        }
      }
      await this.audit.log(
        auth,
        { module: 'games', message: 'Game updated', details: { gameId: game.id, fields: Object.keys(dto).filter((key) => dto[key as keyof UpdateGameDto] !== undefined) } },
        manager,
      );
    }, dto.externalGameId);
    const updated = await this.access.require(auth, game.id);
    return { ...toGameDto(updated, await this.access.params(game.id)), message: `Game with gameId: ${game.id} updated successfully` };
  }

  /** Soft-deletes the game and its tasks (their external ids become free); awards and wallet history stay. */
  async remove(auth: AuthContext, gameId: string): Promise<GameWithMessageDto> {
    const game = await this.access.require(auth, gameId);
    const params = await this.access.params(game.id);
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`UPDATE games SET deleted_at = now(), updated_at = now() WHERE id = $1 AND deleted_at IS NULL`, [game.id]);
      const tasks = (await manager.query(
        // (A CTE, so the driver hands back the rows: a bare UPDATE … RETURNING comes back as [rows, count].)
        `WITH deleted AS (UPDATE tasks SET deleted_at = now(), updated_at = now() WHERE game_id = $1 AND deleted_at IS NULL RETURNING id)
         SELECT id FROM deleted`,
        [game.id],
      )) as Array<{ id: string }>;
      await manager.query(`DELETE FROM task_params WHERE task_id = ANY($1::uuid[])`, [tasks.map((task) => task.id)]);
      await manager.query(`DELETE FROM game_params WHERE game_id = $1`, [game.id]);
      await this.audit.log(
        auth,
        { module: 'games', message: 'Game deleted', details: { gameId: game.id, externalGameId: game.externalGameId, tasksDeleted: tasks.length } },
        manager,
      );
    });
    return { ...toGameDto(game, params), message: `Game with gameId: ${game.id} deleted successfully` };
  }

  /** Copies a game the caller can see, with its params, tasks and task params, into the caller's namespace. */
  async duplicate(auth: AuthContext, gameId: string, dto: DuplicateGameDto): Promise<GameWithMessageDto> {
    const source = await this.access.require(auth, gameId);
    const owner = ownerKeyOf(auth);
    const stamps = stampsOf(auth);
    const copy = await this.inTransaction(async (manager) => {
      await this.assertExternalIdFree(manager, owner, dto.externalGameId);
      const [created] = (await manager.query(
        `INSERT INTO games (external_game_id, platform, strategy_id, owner, api_key_used, oauth_user_id)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${GAME_COLUMNS}`,
        [dto.externalGameId, source.platform, source.strategyId, owner, stamps.apiKeyUsed, stamps.oauthUserId],
      )) as GameRow[];
      await manager.query(
        `INSERT INTO game_params (game_id, key, value, api_key_used, oauth_user_id, created_at)
         SELECT $2, key, value, $3, $4, created_at FROM game_params WHERE game_id = $1`,
        [source.id, created.id, stamps.apiKeyUsed, stamps.oauthUserId],
      );
      const [{ count }] = (await manager.query(
        `WITH source AS (
           SELECT id, external_task_id, status, strategy_id, created_at FROM tasks WHERE game_id = $1 AND deleted_at IS NULL
         ), copied AS (
           INSERT INTO tasks (game_id, external_task_id, status, strategy_id, api_key_used, oauth_user_id)
           SELECT $2, external_task_id, status, strategy_id, $3, $4 FROM source ORDER BY created_at
           RETURNING id, external_task_id
         ), copied_params AS (
           INSERT INTO task_params (task_id, key, value, api_key_used, oauth_user_id, created_at)
           SELECT copied.id, tp.key, tp.value, $3, $4, tp.created_at
           FROM copied JOIN source ON source.external_task_id = copied.external_task_id JOIN task_params tp ON tp.task_id = source.id
         )
         SELECT count(*)::int AS count FROM copied`,
        [source.id, created.id, stamps.apiKeyUsed, stamps.oauthUserId],
      )) as Array<{ count: number }>;
      await this.audit.log(
        auth,
        { module: 'games', message: 'Game created', details: { gameId: created.id, externalGameId: created.externalGameId, duplicatedFrom: source.id, tasksCopied: count } },
        manager,
      );
      return created;
    }, dto.externalGameId);
    return { ...toGameDto(copy, await this.access.params(copy.id)), message: `Game with gameId: ${copy.id} created successfully` };
  }

  async strategy(auth: AuthContext, gameId: string): Promise<EffectiveStrategyDto> {
    const game = await this.access.require(auth, gameId);
    return toEffectiveStrategy(this.registry, this.registry.require(game.strategyId), await this.access.params(game.id));
  }

  /** Users with awards in the game, per live task (each user with the time of their first award on it). */
  async users(auth: AuthContext, gameId: string): Promise<GameUsersDto> {
    const game = await this.access.require(auth, gameId);
    const rows = (await this.dataSource.query(
      `SELECT t.id AS "taskId", t.external_task_id AS "externalTaskId", u.external_user_id AS "externalUserId",
              u.created_at AS "createdAt", s.first_at AS "firstAt"
       FROM tasks t
       LEFT JOIN task_user_award_stats s ON s.task_id = t.id AND s.award_count > 0
       LEFT JOIN users u ON u.id = s.user_id
       WHERE t.game_id = $1 AND t.deleted_at IS NULL
       ORDER BY t.created_at, t.id, s.first_at, u.external_user_id`,
      [game.id],
    )) as Array<{ taskId: string; externalTaskId: string; externalUserId: string | null; createdAt: Date; firstAt: Date }>;
    const tasks = new Map<string, GameUsersDto['tasks'][number]>();
    for (const row of rows) {
      let task = tasks.get(row.taskId);
      if (!task) tasks.set(row.taskId, (task = { externalTaskId: row.externalTaskId, users: [] }));
      if (row.externalUserId !== null) task.users.push({ externalUserId: row.externalUserId, created_at: row.createdAt, firstAction: row.firstAt });
    }
    return { gameId: game.id, tasks: [...tasks.values()] };
  }

  private async assertExternalIdFree(manager: EntityManager, owner: string, externalGameId: string): Promise<void> {
    const taken = (await manager.query(`SELECT 1 FROM games WHERE owner = $1 AND external_game_id = $2 AND deleted_at IS NULL`, [owner, externalGameId])) as unknown[];
    if (taken.length > 0) throw conflict(`Game already exists with externalGameId: ${externalGameId}`);
  }

  /** Runs a write; a race on `(owner, external_game_id)` that slipped past the pre-check is still a 409. */
  private async inTransaction<T>(work: (manager: EntityManager) => Promise<T>, externalGameId?: string): Promise<T> {
    try {
      return await this.dataSource.transaction(work);
    } catch (error) {
      if (externalGameId !== undefined && isUniqueViolation(error, 'games_owner_external_game_id_key')) {
        throw conflict(`Game already exists with externalGameId: ${externalGameId}`);
      }
      throw error;
    }
  }
}
