import { Module } from '@nestjs/common';
import { GamesModule } from '../games/games.module.js';
import { StrategiesModule } from '../strategies/strategies.module.js';
import { TasksModule } from '../tasks/tasks.module.js';
import { UsersModule } from '../users/users.module.js';
import { AwardService } from './award.service.js';
import { PointsQueryService } from './points-query.service.js';
import { PointsController } from './points.controller.js';
import { SimulationService } from './simulation.service.js';

@Module({
  imports: [GamesModule, TasksModule, UsersModule, StrategiesModule],
  controllers: [PointsController],
  providers: [AwardService, PointsQueryService, SimulationService],
})
export class PointsModule {}
