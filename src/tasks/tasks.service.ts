import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AuditLogger } from '../audit/audit-logger.service.js';
import type { AuthContext } from '../auth/auth-context.js';
import { conflict, DomainError, unprocessable } from '../common/domain-error.js';
import { validationFailed } from '../common/validation.js';
import { resolvePage, toPage, type Page } from '../common/pagination.js';
import { GameAccess, type GameRow, type ParamRow } from '../games/game-access.service.js';
import { EMPTY_PATCH, isEmptyPatch, toEffectiveStrategy } from '../games/games.service.js';
import { assertValidParams, insertParams, isUniqueViolation, paramsJson } from '../games/params.js';
import { stampsOf } from '../games/tenancy.js';
import { StrategyRegistry } from '../strategies/strategy-registry.js';
import type {
  BulkCreatedTasksDto,
  BulkCreateTasksDto,
  CreateTaskDto,
  DuplicateTaskDto,
  ListTasksQueryDto,
  TaskDto,
  UpdateTaskDto,
} from './dto/task.dto.js';
import { TASK_COLUMNS, TaskLookup, type TaskRow } from './task-lookup.service.js';

const TASK_ORDERINGS = { created_at: 'created_at', externalTaskId: 'external_task_id', status: 'status' };
const TASK_UNIQUE = 'tasks_game_id_external_task_id_key';

const alreadyExists = (externalTaskId: string, gameId: string) =>
  `Task already exists with externalTaskId: ${externalTaskId} for gameId: ${gameId}`;

@Injectable()
export class TasksService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly games: GameAccess,
    private readonly tasks: TaskLookup,
    private readonly registry: StrategyRegistry,
    private readonly audit: AuditLogger,
  ) {}

  async create(auth: AuthContext, gameId: string, dto: CreateTaskDto): Promise<TaskDto> {
    const game = await this.games.require(auth, gameId);
    this.checkTaskBody(game, dto);
    const stamps = stampsOf(auth);
    const task = await this.inTransaction(game, dto.externalTaskId, async (manager) => {
      await this.assertExternalIdFree(manager, game, dto.externalTaskId);
      const [created] = (await manager.query(
        `INSERT INTO tasks (game_id, external_task_id, status, strategy_id, api_key_used, oauth_user_id)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${TASK_COLUMNS}`,
        [game.id, dto.externalTaskId, dto.status ?? 'open', dto.strategyId ?? null, stamps.apiKeyUsed, stamps.oauthUserId],
      )) as TaskRow[];
      await insertParams(manager, 'task_params', created.id, dto.params ?? [], stamps);
      await this.audit.log(auth, { module: 'tasks', message: 'Task created', details: { gameId: game.id, taskId: created.id, externalTaskId: created.externalTaskId } }, manager);
      return created;
    });
    return (await this.toDtos(game, [task]))[0];
  }

  /** Creates up to 500 tasks; each one that cannot be created is reported with its reason, the others are. */
  async bulkCreate(auth: AuthContext, gameId: string, dto: BulkCreateTasksDto): Promise<BulkCreatedTasksDto> {
    const game = await this.games.require(auth, gameId);
    const failed: BulkCreatedTasksDto['failed_to_create'] = [];
    const accepted: CreateTaskDto[] = [];
    const seen = new Set<string>();
    for (const task of dto.tasks) {
      try {
        this.checkTaskBody(game, task);
        if (seen.has(task.externalTaskId)) throw conflict(alreadyExists(task.externalTaskId, game.id));
        seen.add(task.externalTaskId);
        accepted.push(task);
      } catch (error) {
        if (!(error instanceof DomainError)) throw error;
        const reasons = error.options.errors?.map(({ field, message }) => `${field}: ${message}`) ?? [];
        failed.push({ task, error: reasons.length > 0 ? `${error.detail} (${reasons.join('; ')})` : error.detail });
      }
    }
    if (accepted.length === 0) return { succesfully_created: [], failed_to_create: failed };

    const stamps = stampsOf(auth);
    const created = await this.dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `WITH input AS (
           SELECT * FROM jsonb_to_recordset($2::jsonb) AS i(ord int, external_task_id text, status text, strategy_id text, params jsonb)
         ), created AS (
           INSERT INTO tasks (game_id, external_task_id, status, strategy_id, api_key_used, oauth_user_id)
           SELECT $1, external_task_id, status, strategy_id, $3, $4 FROM input ORDER BY ord
           ON CONFLICT (game_id, external_task_id) WHERE deleted_at IS NULL DO NOTHING
           RETURNING ${TASK_COLUMNS}
         ), created_params AS (
           INSERT INTO task_params (task_id, key, value, api_key_used, oauth_user_id, created_at)
           SELECT created.id, p.param->>'key', p.param->'value', $3, $4, now() + p.position * interval '1 microsecond'
           FROM created JOIN input ON input.external_task_id = created."externalTaskId"
           CROSS JOIN LATERAL jsonb_array_elements(input.params) WITH ORDINALITY AS p(param, position)
         )
         SELECT * FROM created`,
        [
          game.id,
          JSON.stringify(
            accepted.map((task, ord) => ({
              ord,
              external_task_id: task.externalTaskId,
              status: task.status ?? 'open',
              strategy_id: task.strategyId ?? null,
              params: JSON.parse(paramsJson(task.params ?? [])),
            })),
          ),
          stamps.apiKeyUsed,
          stamps.oauthUserId,
        ],
      )) as TaskRow[];
      if (rows.length > 0) {
        await this.audit.log(
          auth,
          { module: 'tasks', message: 'Tasks created', details: { gameId: game.id, taskIds: rows.map((row) => row.id), count: rows.length } },
          manager,
        );
      }
      return rows;
    });
    const createdIds = new Set(created.map((task) => task.externalTaskId));
    for (const task of accepted) {
      if (!createdIds.has(task.externalTaskId)) failed.push({ task, error: alreadyExists(task.externalTaskId, game.id) });
    }
    const order = new Map(accepted.map((task, index) => [task.externalTaskId, index]));
    created.sort((a, b) => order.get(a.externalTaskId)! - order.get(b.externalTaskId)!);
    return { succesfully_created: await this.toDtos(game, created), failed_to_create: failed };
  }

  async list(auth: AuthContext, gameId: string, query: ListTasksQueryDto): Promise<Page<TaskDto>> {
    const page = resolvePage(query, TASK_ORDERINGS, 'created_at'); // a bad ordering is 422 before any lookup (API.md §2)
    const game = await this.games.require(auth, gameId);
    const [{ total }] = (await this.dataSource.query(`SELECT count(*)::int AS total FROM tasks WHERE game_id = $1 AND deleted_at IS NULL`, [game.id])) as Array<{
      total: number;
    }>;
    const rows = (await this.dataSource.query(
      `SELECT ${TASK_COLUMNS} FROM tasks WHERE game_id = $1 AND deleted_at IS NULL
       ORDER BY ${page.column} ${page.direction}, id ${page.direction} LIMIT ${page.pageSize} OFFSET ${page.offset}`,
      [game.id],
    )) as TaskRow[];
    return toPage(await this.toDtos(game, rows), total, page);
  }

  async get(auth: AuthContext, gameId: string, externalTaskId: string): Promise<TaskDto> {
    const { game, task } = await this.tasks.requireGameAndTask(auth, gameId, externalTaskId);
    return (await this.toDtos(game, [task]))[0];
  }

  async update(auth: AuthContext, gameId: string, taskId: string, dto: UpdateTaskDto): Promise<TaskDto> {
    if (isEmptyPatch(dto)) throw unprocessable(EMPTY_PATCH);
    const game = await this.games.require(auth, gameId);
    const task = await this.tasks.requireById(game, taskId);
    const strategy = this.registry.require(dto.strategyId ?? task.strategyId ?? game.strategyId);
    if (dto.params) assertValidParams(this.registry, strategy, dto.params);
    else if (dto.strategyId) {
      // The current params must still fit the new strategy.
      const current = (await this.tasks.paramsOf([task.id])).get(task.id) ?? [];
      const errors = this.registry.checkParams(strategy, current);
      if (errors.length > 0) throw validationFailed(errors.map(({ message }) => ({ field: 'strategyId', message: `a current task param does not fit: ${message}` })));
    }
    const stamps = stampsOf(auth);
    const [updated] = await this.dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `WITH updated AS (
           UPDATE tasks SET status = COALESCE($2, status), strategy_id = COALESCE($3, strategy_id), updated_at = now()
           WHERE id = $1 RETURNING ${TASK_COLUMNS}
         )
         SELECT * FROM updated`,
        [task.id, dto.status ?? null, dto.strategyId ?? null],
      )) as TaskRow[];
      if (dto.params) {
        await manager.query(`DELETE FROM task_params WHERE task_id = $1`, [task.id]);
        await insertParams(manager, 'task_params', task.id, dto.params, stamps);
      }
      await this.audit.log(
        auth,
        { module: 'tasks', message: 'Task updated', details: { gameId: game.id, taskId: task.id, fields: Object.keys(dto).filter((key) => dto[key as keyof UpdateTaskDto] !== undefined) } },
        manager,
      );
      return rows;
    });
    return (await this.toDtos(game, [updated]))[0];
  }

  /** Soft-deletes the task (its external id becomes free); its awards stay. Answers with the deleted task. */
  async remove(auth: AuthContext, gameId: string, taskId: string): Promise<TaskDto> {
    const game = await this.games.require(auth, gameId);
    const task = await this.tasks.requireById(game, taskId);
    const [deleted] = await this.toDtos(game, [task]);
    await this.dataSource.transaction(async (manager) => {
      await manager.query(`UPDATE tasks SET deleted_at = now(), updated_at = now() WHERE id = $1`, [task.id]);
      await manager.query(`DELETE FROM task_params WHERE task_id = $1`, [task.id]);
      await this.audit.log(auth, { module: 'tasks', message: 'Task deleted', details: { gameId: game.id, taskId: task.id, externalTaskId: task.externalTaskId } }, manager);
    });
    return deleted;
  }

  async duplicate(auth: AuthContext, gameId: string, taskId: string, dto: DuplicateTaskDto): Promise<TaskDto> {
    const game = await this.games.require(auth, gameId);
    const source = await this.tasks.requireById(game, taskId);
    const stamps = stampsOf(auth);
    const copy = await this.inTransaction(game, dto.externalTaskId, async (manager) => {
      await this.assertExternalIdFree(manager, game, dto.externalTaskId);
      const [created] = (await manager.query(
        `INSERT INTO tasks (game_id, external_task_id, status, strategy_id, api_key_used, oauth_user_id)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${TASK_COLUMNS}`,
        [game.id, dto.externalTaskId, source.status, source.strategyId, stamps.apiKeyUsed, stamps.oauthUserId],
      )) as TaskRow[];
      await manager.query(
        `INSERT INTO task_params (task_id, key, value, api_key_used, oauth_user_id, created_at)
         SELECT $2, key, value, $3, $4, created_at FROM task_params WHERE task_id = $1`,
        [source.id, created.id, stamps.apiKeyUsed, stamps.oauthUserId],
      );
      await this.audit.log(
        auth,
        { module: 'tasks', message: 'Task created', details: { gameId: game.id, taskId: created.id, externalTaskId: created.externalTaskId, duplicatedFrom: source.id } },
        manager,
      );
      return created;
    });
    return (await this.toDtos(game, [copy]))[0];
  }

  /** Task bodies: a known strategy (404) and params that fit it (422). */
  private checkTaskBody(game: GameRow, dto: CreateTaskDto): void {
    const strategy = this.registry.require(dto.strategyId ?? game.strategyId);
    assertValidParams(this.registry, strategy, dto.params ?? []);
  }

  async toDtos(game: GameRow, tasks: TaskRow[]): Promise<TaskDto[]> {
    const gameParams = await this.games.params(game.id);
    const taskParams = await this.tasks.paramsOf(tasks.map((task) => task.id));
    return tasks.map((task) => toTaskDto(this.registry, game, task, gameParams, taskParams.get(task.id) ?? []));
  }

  private async assertExternalIdFree(manager: EntityManager, game: GameRow, externalTaskId: string): Promise<void> {
    const taken = (await manager.query(`SELECT 1 FROM tasks WHERE game_id = $1 AND external_task_id = $2 AND deleted_at IS NULL`, [game.id, externalTaskId])) as unknown[];
    if (taken.length > 0) throw conflict(alreadyExists(externalTaskId, game.id));
  }

  private async inTransaction<T>(game: GameRow, externalTaskId: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.dataSource.transaction(work);
    } catch (error) {
      if (isUniqueViolation(error, TASK_UNIQUE)) throw conflict(alreadyExists(externalTaskId, game.id));
      throw error;
    }
  }
}

export function toTaskDto(registry: StrategyRegistry, game: GameRow, task: TaskRow, gameParams: ParamRow[], taskParams: ParamRow[]): TaskDto {
  const strategy = registry.require(task.strategyId ?? game.strategyId);
  return {
    taskId: task.id,
    externalTaskId: task.externalTaskId,
    gameId: game.id,
    status: task.status,
    strategyId: strategy.id,
    gameParams: gameParams.map(({ id, key, value }) => ({ id, key, value })),
    taskParams: taskParams.map(({ id, key, value }) => ({ id, key, value })),
    strategy: toEffectiveStrategy(registry, strategy, gameParams, taskParams),
    created_at: task.createdAt,
    updated_at: task.updatedAt,
  };
}
