import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { Auth, type Authenticated, EitherCredential } from '../auth/auth.decorators.js';
import { DashboardLogsDto, DashboardQueryDto, DashboardSummaryDto } from './dashboard.dto.js';
import { DashboardService } from './dashboard.service.js';

const SCOPE =
  'Scoped, unlike GAME: an API key (or, bearer-only, a token subject) sees its own namespace only — its games, its end ' +
  'users and their awards and actions; an admin sees everything. Dates are UTC days, both ends inclusive; every bucket ' +
  'of the range is listed, empty ones with count 0; at most 366 buckets.';

@ApiTags('dashboard')
@Controller('api/v1/dashboard')
export class DashboardController {
  constructor(private readonly dashboard: DashboardService) {}

  @Get('summary')
  @EitherCredential()
  @ApiOperation({ summary: 'New users, games opened, points earned and actions performed over time.', description: SCOPE })
  @ApiOkResponse({ type: DashboardSummaryDto })
  @ApiUnauthorizedResponse({ description: 'Invalid authentication credentials' })
  @ApiUnprocessableEntityResponse({ description: 'Bad date, start_date after end_date, too many buckets, or group_by not day|week|month.' })
  summary(@Auth() { auth }: Authenticated, @Query() query: DashboardQueryDto) {
    return this.dashboard.summary(auth, query);
  }

  @Get('summary/logs')
  @EitherCredential()
  @ApiOperation({
    summary: 'Audit-log entries per level (INFO, WARNING, ERROR) over time, with totals.',
    description:
      'Scoped: an API key sees the entries of requests made with it; a bearer-only subject those it made without a key; ' +
      'an admin every entry. Same range and grouping rules as /dashboard/summary.',
  })
  @ApiOkResponse({ type: DashboardLogsDto })
  @ApiUnauthorizedResponse({ description: 'Invalid authentication credentials' })
  @ApiUnprocessableEntityResponse({ description: 'Bad date, start_date after end_date, too many buckets, or group_by not day|week|month.' })
  logs(@Auth() { auth }: Authenticated, @Query() query: DashboardQueryDto) {
    return this.dashboard.logs(auth, query);
  }
}
