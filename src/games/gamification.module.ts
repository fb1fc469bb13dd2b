import { Module } from '@nestjs/common';
import { ActionsModule } from '../actions/actions.module.js';
import { ClockModule } from '../common/clock.js';
import { PointsModule } from '../points/points.module.js';
import { StrategiesModule } from '../strategies/strategies.module.js';
import { TasksModule } from '../tasks/tasks.module.js';
import { UsersModule } from '../users/users.module.js';
import { WalletModule } from '../wallet/wallet.module.js';
import { GamesModule } from './games.module.js';

/** The gamification core (API.md §4–§8): games, tasks, strategies, points, wallets, users and actions. */
@Module({
  imports: [ClockModule, StrategiesModule, GamesModule, TasksModule, UsersModule, WalletModule, PointsModule, ActionsModule],
})
export class GamificationModule {}
