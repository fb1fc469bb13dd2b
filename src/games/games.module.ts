import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { StrategiesModule } from '../strategies/strategies.module.js';
import { GameAccess } from './game-access.service.js';
import { GamesController } from './games.controller.js';
import { GamesService } from './games.service.js';

@Module({
  imports: [AuditModule, StrategiesModule],
  controllers: [GamesController],
  providers: [GamesService, GameAccess],
  exports: [GameAccess],
})
export class GamesModule {}
