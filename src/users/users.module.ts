import { Module } from '@nestjs/common';
import { UserDirectory } from './user-directory.service.js';
import { UsersController } from './users.controller.js';
import { UsersService } from './users.service.js';

@Module({
  controllers: [UsersController],
  providers: [UsersService, UserDirectory],
  exports: [UserDirectory],
})
export class UsersModule {}
