import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import type { AuthContext } from '../auth/auth-context.js';
import { AuditLog, type AuditLevel } from './audit-log.entity.js';

export interface AuditEntry {
  level?: AuditLevel;
  module: string;
  message: string;
  /** Never a secret: ids, names and changed fields only. */
  details?: Record<string, unknown>;
}

/**
 * Writes the audit log. Pass the transaction's `EntityManager` when the entry belongs to a write, so the entry
 * and the change commit or roll back together.
 */
@Injectable()
export class AuditLogger {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async log(auth: AuthContext | null, entry: AuditEntry, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.insert(AuditLog, {
      level: entry.level ?? 'INFO',
      module: entry.module,
      message: entry.message,
      details: (entry.details ?? {}) as Record<string, any>,
      apiKeyUsed: auth?.apiKey?.id ?? null,
      oauthUserId: auth?.oauthUserId ?? null,
      correlationId: auth?.correlationId ?? null,
    });
  }
}
