import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthContext } from '../auth/auth-context.js';
import { Clock } from '../common/clock.js';
import { DomainError } from '../common/domain-error.js';
import { GameAccess } from '../games/game-access.service.js';
import { stampsOf } from '../games/tenancy.js';
import { SLUG_1_100 } from '../games/validators.js';
import { validationFailed } from '../common/validation.js';
import { EXTERNAL_USER_ID_MESSAGE } from '../points/dto/award.dto.js';
import { TASK_NOT_ACTIVE } from '../points/award.service.js';
import { TaskLookup } from '../tasks/task-lookup.service.js';
import { UserDirectory } from '../users/user-directory.service.js';
import type { ActionCreatedDto, TaskActionDto, UserActionDto } from './dto/action.dto.js';

/** User actions: task-bound (in the game owner's namespace) or standalone (the caller's); the user is created if new. */
@Injectable()
export class ActionsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly games: GameAccess,
    private readonly tasks: TaskLookup,
    private readonly users: UserDirectory,
    private readonly clock: Clock,
  ) {}

  async addToTask(auth: AuthContext, gameId: string, externalTaskId: string, dto: TaskActionDto): Promise<ActionCreatedDto> {
    const game = await this.games.require(auth, gameId);
    const task = await this.tasks.requireByExternalId(game, externalTaskId);
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
    const [action] = await this.dataSource.transaction(async (manager) => {
      const user = await this.users.ensure(manager, owner, externalUserId, stamps);
      return (await manager.query(
        `INSERT INTO user_actions (user_id, game_id, task_id, type_action, data, description, api_key_used, oauth_user_id, created_at)
         VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9)
         RETURNING id, type_action AS "typeAction", data, description, created_at AS "createdAt"`,
        [user.id, gameId, taskId, dto.typeAction, JSON.stringify(dto.data ?? {}), dto.description ?? null, stamps.apiKeyUsed, stamps.oauthUserId, this.clock.now()],
      )) as Array<{ id: string; typeAction: string; data: Record<string, any>; description: string | null; createdAt: Date }>;
    });
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
