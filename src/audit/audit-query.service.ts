import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthContext } from '../auth/auth-context.js';
import { forbidden } from '../common/domain-error.js';
import { fetchPage, resolvePage, type Page } from '../common/pagination.js';
import { AuditLog } from './audit-log.entity.js';
import type { AuditEntryDto, AuditQueryDto } from './audit.dto.js';

/** An end of a date range: a bare date (`2026-11-25`) as `to` covers the whole day. */
export function rangeEnd(value: string): Date {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T23:59:59.999Z`) : new Date(value);
}

@Injectable()
export class AuditQueryService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async list(auth: AuthContext, query: AuditQueryDto): Promise<Page<AuditEntryDto>> {
    if (!auth.isAdmin) throw forbidden('You do not have permission to read the audit log');
    const page = resolvePage(query, { created_at: 'log.created_at', module: 'log.module', level: 'log.level' }, '-created_at');
    const builder = this.dataSource.getRepository(AuditLog).createQueryBuilder('log');
    if (query.module) builder.andWhere('log.module = :module', { module: query.module });
    if (query.level) builder.andWhere('log.level = :level', { level: query.level });
    if (query.dateFrom) builder.andWhere('log.created_at >= :from', { from: new Date(query.dateFrom) });
    if (query.dateTo) builder.andWhere('log.created_at <= :to', { to: rangeEnd(query.dateTo) });
    return fetchPage(builder, page, (row) => ({
      id: row.id,
      level: row.level,
      module: row.module,
      message: row.message,
      details: row.details,
      apiKeyUsed: row.apiKeyUsed,
      oauthUserId: row.oauthUserId,
      correlationId: row.correlationId,
      created_at: row.createdAt.toISOString(),
    }));
  }
}
