import { Module } from '@nestjs/common';
import { StrategiesController } from './strategies.controller.js';
import { StrategyRegistry } from './strategy-registry.js';

@Module({
  controllers: [StrategiesController],
  providers: [StrategyRegistry],
  exports: [StrategyRegistry],
})
export class StrategiesModule {}
