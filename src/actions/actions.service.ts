import { Inject, Injectable } from '@nestjs/common';
import { prepared } from '../database/prepared.js';
import { PreparedStatementRunner } from '../database/prepared-statements.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import type { AuthContext } from '../auth/auth-context.js';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/domain-error.js';
import { stampsOf } from '../games/tenancy.js';
import { SLUG_1_100 } from '../games/validators.js';
import { validationFailed } from '../common/validation.js';
import { EXTERNAL_USER_ID_MESSAGE } from '../points/dto/award.dto.js';
import { TASK_NOT_ACTIVE } from '../points/award.service.js';
import { TaskLookup } from '../tasks/task-lookup.service.js';
import { ENSURE_USER_ATTEMPTS, ENSURE_USER_CTES, UserDirectory } from '../users/user-directory.service.js';
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
    const { game, task } = await this.tasks.requireGameAndTask(auth, gameId, externalTaskId);
    if (task.status === 'closed') throw new DomainError('gone', TASK_NOT_ACTIVE);
    return this.insert(auth, game.owner, dto.externalUserId, dto, game.id, task.id);
  }

  async addToUser(auth: AuthContext, externalUserId: string, dto: UserActionDto, tenant?: string): Promise<ActionCreatedDto> {
    if (!SLUG_1_100.test(externalUserId)) throw validationFailed([{ field: 'externalUserId', message: EXTERNAL_USER_ID_MESSAGE }]);
    const namespace = await this.users.namespaceFor(auth, tenant);
    return this.insert(auth, namespace, externalUserId, dto, null, null);
  }

  private async insert(
    auth: AuthContext,
    owner: string,
    externalUserId: string,
    dto: UserActionDto,
    gameId: string | null,
    taskId: string | null,
  ): Promise<ActionCreatedDto> {
    const stamps = stampsOf(auth);
    const values = [
      owner,
      externalUserId,
      stamps.apiKeyUsed,
      stamps.oauthUserId,
      this.config.defaultConversionRate,
      gameId,
      taskId,
      dto.typeAction,
      JSON.stringify(dto.data ?? {}),
      dto.description ?? null,
      this.clock.now(),
    ];
    let action: { id: string; typeAction: string; data: Record<string, any>; description: string | null; createdAt: Date } | undefined;
    for (let attempt = 0; !action && attempt < ENSURE_USER_ATTEMPTS; attempt++) [action] = await this.statements.run<NonNullable<typeof action>>(INSERT_ACTION, values);
    if (!action) throw new Error('Could not create or find the user of an action');
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
}
