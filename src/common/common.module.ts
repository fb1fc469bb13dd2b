import { Global, Module } from '@nestjs/common';
import { RedisService } from './redis.service.js';

/** Infrastructure shared by every feature module. */
@Global()
@Module({ providers: [RedisService], exports: [RedisService] })
export class CommonModule {}
