import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { prepared } from '../database/prepared.js';
import { PreparedStatementRunner } from '../database/prepared-statements.js';
import { notFound } from '../common/domain-error.js';
import type { GameRow, ParamRow } from '../games/game-access.service.js';
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

const TASK_BY_EXTERNAL_ID = prepared(
  'task_by_external_id',
  `SELECT ${TASK_COLUMNS} FROM tasks WHERE game_id = $1 AND external_task_id = $2 AND deleted_at IS NULL`,
);

export const taskNotFoundByExternalId = (externalTaskId: string, gameId: string) =>
  notFound(`Task not found with externalTaskId: ${externalTaskId} for gameId: ${gameId}`);

/** Finds live tasks of a game the caller already has access to. */
@Injectable()
export class TaskLookup {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly statements: PreparedStatementRunner,
  ) {}

  /** Outside a transaction (no `manager`) the lookup is a prepared statement on the pool. */
  async requireByExternalId(game: GameRow, externalTaskId: string, manager?: EntityManager): Promise<TaskRow> {
    const values = [game.id, externalTaskId];
    const [task] = externalTaskId.includes('\u0000')
      ? []
      : manager
        ? ((await manager.query(TASK_BY_EXTERNAL_ID.text, values)) as TaskRow[])
        : await this.statements.run<TaskRow>(TASK_BY_EXTERNAL_ID, values);
    if (!task) throw taskNotFoundByExternalId(externalTaskId, game.id);
    return task;
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
