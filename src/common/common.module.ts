import { Global, Module } from '@nestjs/common';
import { PreparedStatementRunner } from '../database/prepared-statements.js';
import { RedisService } from './redis.service.js';

/** Infrastructure shared by every feature module. */
@Global()
@Module({ providers: [RedisService, PreparedStatementRunner], exports: [RedisService, PreparedStatementRunner] })
export class CommonModule {}
