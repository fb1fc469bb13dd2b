import { Controller, Get, Query } from '@nestjs/common';
import { ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AdminOnly, Auth, type Authenticated } from '../auth/auth.decorators.js';
import { AuditQueryService } from './audit-query.service.js';
import { AuditPageDto, AuditQueryDto } from './audit.dto.js';

@ApiTags('audit')
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditQueryService) {}

  @Get()
  @AdminOnly('You do not have permission to read the audit log')
  @ApiOperation({ summary: 'The audit log (admin): key issue/revoke/rotate, OAuth user bootstrap, game and task changes.' })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiUnauthorizedResponse({ description: 'No bearer token.' })
  @ApiForbiddenResponse({ description: 'You do not have permission to read the audit log' })
  list(@Auth() { auth }: Authenticated, @Query() query: AuditQueryDto) {
    return this.audit.list(auth, query);
  }
}
