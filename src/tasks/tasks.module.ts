import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module.js';
import { GamesModule } from '../games/games.module.js';
import { StrategiesModule } from '../strategies/strategies.module.js';
import { TaskLookup } from './task-lookup.service.js';
import { TasksController } from './tasks.controller.js';
import { TasksService } from './tasks.service.js';

@Module({
  imports: [AuditModule, GamesModule, StrategiesModule],
  controllers: [TasksController],
  providers: [TasksService, TaskLookup],
  exports: [TaskLookup],
})
export class TasksModule {}
