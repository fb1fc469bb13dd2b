import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Res } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiGoneResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Auth, type Authenticated, EitherCredential, OAuthOnly } from '../auth/auth.decorators.js';
import { PageQueryDto } from '../common/pagination.js';
import { GameErrors } from '../games/api-docs.js';
import { SensitiveTaskLimits, SimulationQuota } from '../rate-limits/rate-limits.decorators.js';
import { AwardService } from './award.service.js';
import { AwardDto, AwardPointsDto } from './dto/award.dto.js';
import { GamePointsDetailsDto, GamePointsDto, SimulationDto, TaskTotalDto, UserPointsDto, UserPointsWithDetailsDto } from './dto/points.dto.js';
import { PointsQueryService } from './points-query.service.js';
import { SimulationService } from './simulation.service.js';

const TASK_NOT_FOUND = 'Task not found with externalTaskId: {x} for gameId: {gameId}';
const USER_NOT_FOUND = 'Not found externalUserId : {x}';

@ApiTags('points')
@Controller('api/v1/games/:gameId')
@ApiUnauthorizedResponse({ description: 'Invalid authentication credentials' })
export class PointsController {
  constructor(
    private readonly awards: AwardService,
    private readonly points: PointsQueryService,
    private readonly simulation: SimulationService,
  ) {}

  @Post('tasks/:externalTaskId/points')
  @EitherCredential()
  @SensitiveTaskLimits()
  @ApiOperation({
    summary: 'Award points to a user for a task, computed by the task’s strategy.',
    description:
      'Idempotent under `Idempotency-Key` (or `X-Idempotency-Key`, else `data.eventId`), scoped to (game, task, user): a repeat with the same ' +
      'body answers 200 with the stored award and `Idempotent-Replayed: true`; a different body is 409. `isSimulated: true` answers 200 and writes nothing.',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: '1–255 characters.' })
  @ApiHeader({ name: 'X-Idempotency-Key', required: false, description: 'Alias of Idempotency-Key.' })
  @ApiCreatedResponse({ type: AwardDto, description: 'Awarded.' })
  @ApiOkResponse({ type: AwardDto, description: 'A replay (header `Idempotent-Replayed: true`) or a simulated award.' })
  @GameErrors(TASK_NOT_FOUND)
  @ApiConflictResponse({ description: 'Idempotency-Key was already used with a different request.' })
  @ApiGoneResponse({ description: 'Task is not active' })
  @ApiUnprocessableEntityResponse({ description: 'Validation failed, or the strategy vetoed the award (its reason is the detail).' })
  async award(
    @Auth() { auth }: Authenticated,
    @Param('gameId') gameId: string,
    @Param('externalTaskId') externalTaskId: string,
    @Body() dto: AwardPointsDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('x-idempotency-key') xIdempotencyKey: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<AwardDto> {
    const outcome = await this.awards.award(auth, gameId, externalTaskId, dto, idempotencyKey ?? xIdempotencyKey);
    reply.status(outcome.status);
    if (outcome.replayed) reply.header('Idempotent-Replayed', 'true');
    return outcome.award;
  }

  @Get('points')
  @EitherCredential()
  @ApiOperation({ summary: 'Every task’s users with their exact point totals.' })
  @ApiOkResponse({ type: GamePointsDto })
  @GameErrors()
  gamePoints(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string) {
    return this.points.gamePoints(auth, gameId);
  }

  @Get('points/details')
  @EitherCredential()
  @ApiOperation({ summary: 'As /points, a page of users at a time, each with their latest 100 awards per task.' })
  @ApiOkResponse({ type: GamePointsDetailsDto })
  @GameErrors()
  gamePointsDetails(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string, @Query() query: PageQueryDto) {
    return this.points.gamePointsDetails(auth, gameId, query);
  }

  @Get('users/:externalUserId/points')
  @EitherCredential()
  @ApiOperation({ summary: 'One user’s totals per task in this game.' })
  @ApiOkResponse({ type: [TaskTotalDto] })
  @GameErrors(USER_NOT_FOUND)
  userPoints(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string, @Param('externalUserId') externalUserId: string) {
    return this.points.userGamePoints(auth, gameId, externalUserId);
  }

  @Get('users/:externalUserId/points/simulated')
  @OAuthOnly()
  @SimulationQuota()
  @ApiOperation({
    summary: 'What every open task would award the caller now (bearer only; the user must be the token subject, admins included).',
  })
  @ApiOkResponse({ type: SimulationDto })
  @GameErrors()
  @ApiForbiddenResponse({ description: 'You are not authorized to access this resource. | You do not have permission to access this game' })
  @ApiUnauthorizedResponse({ description: 'This endpoint requires a bearer token.' })
  simulate(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string, @Param('externalUserId') externalUserId: string) {
    return this.simulation.simulate(auth, gameId, externalUserId);
  }

  @Get('tasks/:externalTaskId/points')
  @EitherCredential()
  @ApiOperation({ summary: 'One task’s users with their totals.' })
  @ApiOkResponse({ type: [UserPointsDto] })
  @GameErrors(TASK_NOT_FOUND)
  taskPoints(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string, @Param('externalTaskId') externalTaskId: string) {
    return this.points.taskPoints(auth, gameId, externalTaskId);
  }

  @Get('tasks/:externalTaskId/points/details')
  @EitherCredential()
  @ApiOperation({ summary: 'One task’s users, a page at a time (header X-Total-Count = all users), with their latest 100 awards.' })
  @ApiOkResponse({ type: [UserPointsWithDetailsDto], headers: { 'X-Total-Count': { description: 'Users with awards on the task.', schema: { type: 'integer' } } } })
  @GameErrors(TASK_NOT_FOUND)
  async taskPointsDetails(
    @Auth() { auth }: Authenticated,
    @Param('gameId') gameId: string,
    @Param('externalTaskId') externalTaskId: string,
    @Query() query: PageQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { items, total } = await this.points.taskPointsDetails(auth, gameId, externalTaskId, query);
    reply.header('X-Total-Count', String(total));
    return items;
  }

  @Get('tasks/:externalTaskId/users/:externalUserId/points')
  @EitherCredential()
  @HttpCode(200)
  @ApiOperation({ summary: 'One user’s total on one task, with their latest 100 awards.' })
  @ApiOkResponse({ type: [UserPointsWithDetailsDto] })
  @GameErrors(TASK_NOT_FOUND, USER_NOT_FOUND)
  taskUserPoints(
    @Auth() { auth }: Authenticated,
    @Param('gameId') gameId: string,
    @Param('externalTaskId') externalTaskId: string,
    @Param('externalUserId') externalUserId: string,
  ) {
    return this.points.taskUserPoints(auth, gameId, externalTaskId, externalUserId);
  }
}
