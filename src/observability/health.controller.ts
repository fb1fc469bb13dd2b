import { Controller, Get, HttpCode, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { Public } from '../auth/auth.decorators.js';
import { DomainError } from '../common/domain-error.js';

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get('health')
  @Public()
  @ApiOperation({ summary: 'Liveness: the process answers.' })
  @ApiOkResponse({ schema: { example: { status: 'ok' } } })
  live() {
    return { status: 'ok' };
  }

  @Get('health/ready')
  @Public()
  @ApiOperation({ summary: 'Readiness: the database answers and every migration has run.' })
  @ApiOkResponse({ schema: { example: { status: 'ok', database: 'up', migrations: 'current' } } })
  @ApiServiceUnavailableResponse({ description: 'The database is unreachable or migrations are pending.' })
  async ready() {
    let pending: boolean;
    try {
      await this.dataSource.query('SELECT 1');
      pending = await this.dataSource.showMigrations();
    } catch {
      throw new DomainError('unavailable', 'Database is unavailable', { headers: { 'Retry-After': '5' } });
    }
    if (pending) throw new DomainError('unavailable', 'Database migrations are pending', { headers: { 'Retry-After': '5' } });
    return { status: 'ok', database: 'up', migrations: 'current' };
  }

  @Get('api/v1/kpi/health_check')
  @Public()
  @HttpCode(200)
  @ApiOperation({ summary: "GAME's health probe." })
  @ApiOkResponse({ schema: { example: { status: 'KPI service is running', timestamp: '2026-11-25T16:07:03.123Z' } } })
  kpi() {
    return { status: 'KPI service is running', timestamp: new Date().toISOString() };
  }
}
