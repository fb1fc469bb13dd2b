import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBody,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { Auth, type Authenticated, EitherCredential } from '../auth/auth.decorators.js';
import { TenantQueryDto, UserGameTotalDto, UserPointsQueryResultDto } from './dto/users.dto.js';
import { UsersService } from './users.service.js';

@ApiTags('users')
@Controller('api/v1/users')
@EitherCredential()
@ApiUnauthorizedResponse({ description: 'Invalid authentication credentials' })
@ApiForbiddenResponse({ description: 'You do not have permission to access this user (`tenant` is for admins)' })
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post('points/query')
  @HttpCode(200)
  @ApiOperation({ summary: 'Totals of up to 100 users of the caller’s namespace; unknown ids give userExists: false.' })
  @ApiBody({ schema: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,100}$' }, maxItems: 100, example: ['user_1', 'user_2'] } })
  @ApiOkResponse({ type: [UserPointsQueryResultDto] })
  @ApiUnprocessableEntityResponse({ description: 'Not an array of at most 100 externalUserIds.' })
  query(@Auth() { auth }: Authenticated, @Body() body: string[], @Query() query: TenantQueryDto) {
    return this.users.query(auth, body, query.tenant);
  }

  @Get(':externalUserId/points')
  @ApiOperation({ summary: 'A user’s totals per game and task.' })
  @ApiOkResponse({ type: [UserGameTotalDto] })
  @ApiNotFoundResponse({ description: 'Not found externalUserId : {x}' })
  points(@Auth() { auth }: Authenticated, @Param('externalUserId') externalUserId: string, @Query() query: TenantQueryDto) {
    return this.users.points(auth, externalUserId, query.tenant);
  }
}
