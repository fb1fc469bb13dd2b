import { Module } from '@nestjs/common';
import { AuditLogger } from './audit-logger.service.js';
import { AuditQueryService } from './audit-query.service.js';
import { AuditController } from './audit.controller.js';

@Module({ controllers: [AuditController], providers: [AuditLogger, AuditQueryService], exports: [AuditLogger] })
export class AuditModule {}
