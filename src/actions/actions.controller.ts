import { Body, Controller, Param, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiGoneResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { Auth, type Authenticated, EitherCredential } from '../auth/auth.decorators.js';
import { GameErrors } from '../games/api-docs.js';
import { SensitiveTaskLimits } from '../rate-limits/rate-limits.decorators.js';
import { TenantQueryDto } from '../users/dto/users.dto.js';
import { ActionCreatedDto, TaskActionDto, UserActionDto } from './dto/action.dto.js';
import { ActionsService } from './actions.service.js';

@ApiTags('actions')
@Controller('api/v1')
@EitherCredential()
@ApiUnauthorizedResponse({ description: 'Invalid authentication credentials' })
export class ActionsController {
  constructor(private readonly actions: ActionsService) {}

  @Post('games/:gameId/tasks/:externalTaskId/action')
  @SensitiveTaskLimits()
  @ApiOperation({ summary: 'Record an action of a user on a task (the user is created if new).' })
  @ApiCreatedResponse({ type: ActionCreatedDto })
  @GameErrors('Task not found with externalTaskId: {x} for gameId: {gameId}')
  @ApiGoneResponse({ description: 'Task is not active' })
  @ApiUnprocessableEntityResponse({ description: 'Validation failed.' })
  addToTask(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string, @Param('externalTaskId') externalTaskId: string, @Body() dto: TaskActionDto) {
    return this.actions.addToTask(auth, gameId, externalTaskId, dto);
  }

  @Post('users/:externalUserId/actions')
  @ApiOperation({ summary: 'Record a standalone action of a user of the caller’s namespace (created if new).' })
  @ApiCreatedResponse({ type: ActionCreatedDto })
  @ApiForbiddenResponse({ description: 'You do not have permission to access this user (`tenant` is for admins)' })
  @ApiUnprocessableEntityResponse({ description: 'Validation failed.' })
  addToUser(@Auth() { auth }: Authenticated, @Param('externalUserId') externalUserId: string, @Body() dto: UserActionDto, @Query() query: TenantQueryDto) {
    return this.actions.addToUser(auth, externalUserId, dto, query.tenant);
  }
}
