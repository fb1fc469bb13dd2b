import { Inject, Injectable } from '@nestjs/common';
import { prepared } from '../database/prepared.js';
import { PreparedStatementRunner } from '../database/prepared-statements.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import type { AuthContext } from '../auth/auth-context.js';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/domain-error.js';
import { isUuid, ownerKeyOf, stampsOf } from '../games/tenancy.js';
import { SLUG_1_100 } from '../games/validators.js';
import { validationFailed } from '../common/validation.js';
import { EXTERNAL_USER_ID_MESSAGE } from '../points/dto/award.dto.js';
import { TASK_NOT_ACTIVE } from '../points/award.service.js';
import { TaskLookup } from '../tasks/task-lookup.service.js';
import { ENSURE_USER_ATTEMPTS, ENSURE_USER_CTES, ensureUserCtes } from '../users/ensure-user.sql.js';
import { UserDirectory } from '../users/user-directory.service.js';
import { assertGameAccess, gameNotFound } from '../games/game-access.service.js';
import { taskNotFoundByExternalId } from '../tasks/task-lookup.service.js';
import type { ActionCreatedDto, TaskActionDto, UserActionDto } from './dto/action.dto.js';

/**
 * One statement: the user (created with a wallet if new) and the action. ENSURE_USER_CTES' $1–$5, then $6 game,
 * $7 task, $8 type, $9 data, $10 description, $11 time. No row: a concurrent creator of the user got in between; retry.
 */
const INSERT_ACTION = prepared(
  'action_insert',
  `WITH ${ENSURE_USER_CTES}, action AS (
     INSERT INTO user_actions (user_id, game_id, task_id, type_action, data, description, api_key_used, oauth_user_id, created_at)
     SELECT id, $6::uuid, $7::uuid, $8, $9::jsonb, $10, $3::uuid, $4, $11::timestamptz FROM ensured_user LIMIT 1
     RETURNING id, type_action AS "typeAction", data, description, created_at AS "createdAt"
   )
   SELECT * FROM action`,
);

/**
 * A task action of a caller who is not an admin, in one statement: the game and task as the caller may see them, and
 * — only when the game is the caller's and the task exists and is open — the user and the action. Always one row
 * while the game exists, saying what was found; `id` null with everything permitted means a concurrent creator of the
 * user got in between (retry). $1–$5 as INSERT_ACTION ($1 = the caller's namespace, which must own the game),
 * $6 game, $7 external task id, $8 type, $9 data, $10 description, $11 time.
 */
const INSERT_TASK_ACTION = prepared(
  'action_insert_for_task',
  `WITH target AS (
     SELECT g.owner, t.id AS task_id, t.status
     FROM games g LEFT JOIN tasks t ON t.game_id = g.id AND t.external_task_id = $7 AND t.deleted_at IS NULL
     WHERE g.id = $6::uuid AND g.deleted_at IS NULL
   ), permitted AS (
     SELECT task_id FROM target WHERE owner = $1 AND task_id IS NOT NULL AND status = 'open'
   ), ${ensureUserCtes('EXISTS (SELECT 1 FROM permitted)')}, action AS (
     INSERT INTO user_actions (user_id, game_id, task_id, type_action, data, description, api_key_used, oauth_user_id, created_at)
     SELECT u.id, $6::uuid, p.task_id, $8, $9::jsonb, $10, $3::uuid, $4, $11::timestamptz FROM ensured_user u, permitted p LIMIT 1
     RETURNING id, type_action AS "typeAction", data, description, created_at AS "createdAt"
   )
   SELECT target.owner, target.task_id AS "taskId", target.status, action.* FROM target LEFT JOIN action ON true`,
);

type ActionRow = { id: string; typeAction: string; data: Record<string, any>; description: string | null; createdAt: Date };

/** User actions: task-bound (in the game owner's namespace) or standalone (the caller's); the user is created if new. */
@Injectable()
export class ActionsService {
  constructor(
    private readonly statements: PreparedStatementRunner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tasks: TaskLookup,
    private readonly users: UserDirectory,
    private readonly clock: Clock,
  ) {}

  async addToTask(auth: AuthContext, gameId: string, externalTaskId: string, dto: TaskActionDto): Promise<ActionCreatedDto> {
    if (!auth.isAdmin) return this.insertForTask(auth, gameId, externalTaskId, dto);
    // An admin acts in the game owner's namespace, known only once the game is read: two round trips.
    const { game, task } = await this.tasks.requireGameAndTask(auth, gameId, externalTaskId);
    if (task.status === 'closed') throw new DomainError('gone', TASK_NOT_ACTIVE);
    return this.insert(auth, game.owner, dto.externalUserId, dto, game.id, task.id);
  }

  async addToUser(auth: AuthContext, externalUserId: string, dto: UserActionDto, tenant?: string): Promise<ActionCreatedDto> {
    if (!SLUG_1_100.test(externalUserId)) throw validationFailed([{ field: 'externalUserId', message: EXTERNAL_USER_ID_MESSAGE }]);
    const namespace = await this.users.namespaceFor(auth, tenant);
    return this.insert(auth, namespace, externalUserId, dto, null, null);
  }

  /** `addToTask` for a caller who is not an admin: one round trip, same checks and errors in the same order. */
  private async insertForTask(auth: AuthContext, gameId: string, externalTaskId: string, dto: TaskActionDto): Promise<ActionCreatedDto> {
    if (!isUuid(gameId)) throw gameNotFound(gameId);
    const owner = ownerKeyOf(auth);
    const values = [...this.userValues(auth, owner, dto.externalUserId), gameId, externalTaskId.includes('\u0000') ? null : externalTaskId, ...this.actionValues(dto)];
    for (let attempt = 0; attempt < ENSURE_USER_ATTEMPTS; attempt++) {
      const [row] = await this.statements.run<{ owner: string; taskId: string | null; status: string | null } & Partial<ActionRow>>(INSERT_TASK_ACTION, values);
      if (!row) throw gameNotFound(gameId);
      assertGameAccess(auth, row);
      if (!row.taskId) throw taskNotFoundByExternalId(externalTaskId, gameId);
      if (row.status === 'closed') throw new DomainError('gone', TASK_NOT_ACTIVE);
      if (row.id) return this.created(row as ActionRow, dto.externalUserId);
    }
    throw new Error('Could not create or find the user of an action');
  }

  private userValues(auth: AuthContext, owner: string, externalUserId: string): unknown[] {
    const stamps = stampsOf(auth);
    return [owner, externalUserId, stamps.apiKeyUsed, stamps.oauthUserId, this.config.defaultConversionRate];
  }

  private actionValues(dto: UserActionDto): unknown[] {
    return [dto.typeAction, JSON.stringify(dto.data ?? {}), dto.description ?? null, this.clock.now()];
  }

  private created(action: ActionRow, externalUserId: string): ActionCreatedDto {
    return {
      id: action.id,
      typeAction: action.typeAction,
      data: action.data,
      description: action.description,
      externalUserId,
      created_at: action.createdAt,
      message: 'Action added successfully',
    };
  }

  private async insert(
    auth: AuthContext,
    owner: string,
    externalUserId: string,
    dto: UserActionDto,
    gameId: string | null,
    taskId: string | null,
  ): Promise<ActionCreatedDto> {
    const values = [...this.userValues(auth, owner, externalUserId), gameId, taskId, ...this.actionValues(dto)];
    let action: ActionRow | undefined;
    for (let attempt = 0; !action && attempt < ENSURE_USER_ATTEMPTS; attempt++) [action] = await this.statements.run<ActionRow>(INSERT_ACTION, values);
    if (!action) throw new Error('Could not create or find the user of an action');
    return this.created(action, externalUserId);
  }
}
