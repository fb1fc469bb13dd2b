import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { prepared } from '../database/prepared.js';
import { PreparedStatementRunner } from '../database/prepared-statements.js';
import { notFound } from '../common/domain-error.js';
import { assertGameAccess, gameNotFound, type GameRow, type ParamRow } from '../games/game-access.service.js';
import type { AuthContext } from '../auth/auth-context.js';
import { isUuid } from '../games/tenancy.js';
import type { TaskStatus } from './task.entity.js';

export interface TaskRow {
  id: string;
  gameId: string;
  externalTaskId: string;
  status: TaskStatus;
  /** Null: the game's strategy. */
  strategyId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export const TASK_COLUMNS = `id, game_id AS "gameId", external_task_id AS "externalTaskId", status, strategy_id AS "strategyId",
  created_at AS "createdAt", updated_at AS "updatedAt"`;

/** A live game and its live task by external id, in one round trip; task columns are null when it has none. */
const GAME_AND_TASK = prepared(
  'game_and_task',
  `SELECT g.id, g.external_game_id AS "externalGameId", g.platform, g.strategy_id AS "strategyId", g.owner,
          g.created_at AS "createdAt", g.updated_at AS "updatedAt",
          t.id AS "taskId", t.external_task_id AS "taskExternalTaskId", t.status AS "taskStatus", t.strategy_id AS "taskStrategyId",
          t.created_at AS "taskCreatedAt", t.updated_at AS "taskUpdatedAt"
   FROM games g
   LEFT JOIN tasks t ON t.game_id = g.id AND t.external_task_id = $2 AND t.deleted_at IS NULL
   WHERE g.id = $1 AND g.deleted_at IS NULL`,
);

interface GameAndTaskRow extends GameRow {
  taskId: string | null;
  taskExternalTaskId: string | null;
  taskStatus: TaskStatus | null;
  taskStrategyId: string | null;
  taskCreatedAt: Date | null;
  taskUpdatedAt: Date | null;
}

export const taskNotFoundByExternalId = (externalTaskId: string, gameId: string) =>
  notFound(`Task not found with externalTaskId: ${externalTaskId} for gameId: ${gameId}`);

/** Finds live tasks of a game the caller already has access to. */
@Injectable()
export class TaskLookup {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly statements: PreparedStatementRunner,
  ) {}

  /**
   * The game (404 unknown, 403 someone else's) and its task by external id (404), in one round trip, errors in
   * that order.
   */
  async requireGameAndTask(auth: AuthContext, gameId: string, externalTaskId: string): Promise<{ game: GameRow; task: TaskRow }> {
    if (!isUuid(gameId)) throw gameNotFound(gameId);
    const [row] = await this.statements.run<GameAndTaskRow>(GAME_AND_TASK, [gameId, externalTaskId.includes('\u0000') ? null : externalTaskId]);
    if (!row) throw gameNotFound(gameId);
    const { taskId, taskExternalTaskId, taskStatus, taskStrategyId, taskCreatedAt, taskUpdatedAt, ...game } = row;
    assertGameAccess(auth, game);
    if (!taskId) throw taskNotFoundByExternalId(externalTaskId, game.id);
    return {
      game,
      task: { id: taskId, gameId: game.id, externalTaskId: taskExternalTaskId!, status: taskStatus!, strategyId: taskStrategyId, createdAt: taskCreatedAt!, updatedAt: taskUpdatedAt! },
    };
  }

  async requireById(game: GameRow, taskId: string, manager: EntityManager = this.dataSource.manager): Promise<TaskRow> {
    const [task] = isUuid(taskId)
      ? ((await manager.query(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = $1 AND game_id = $2 AND deleted_at IS NULL`, [taskId, game.id])) as TaskRow[])
      : [];
    if (!task) throw notFound(`Task not found by taskId: ${taskId}`);
    return task;
  }

  async paramsOf(taskIds: string[], manager: EntityManager = this.dataSource.manager): Promise<Map<string, ParamRow[]>> {
    const byTask = new Map<string, ParamRow[]>(taskIds.map((id) => [id, []]));
    if (taskIds.length === 0) return byTask;
    const rows = (await manager.query(
      `SELECT task_id AS "taskId", id, key, value FROM task_params WHERE task_id = ANY($1::uuid[]) ORDER BY created_at, key`,
      [taskIds],
    )) as Array<ParamRow & { taskId: string }>;
    for (const { taskId, ...param } of rows) byTask.get(taskId)?.push(param);
    return byTask;
  }
}
