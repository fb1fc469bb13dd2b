import { Module } from '@nestjs/common';
import { GamesModule } from '../games/games.module.js';
import { TasksModule } from '../tasks/tasks.module.js';
import { UsersModule } from '../users/users.module.js';
import { ActionsController } from './actions.controller.js';
import { ActionsService } from './actions.service.js';

@Module({ imports: [GamesModule, TasksModule, UsersModule], controllers: [ActionsController], providers: [ActionsService] })
export class ActionsModule {}
