import { Controller, Get, Param } from '@nestjs/common';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators.js';
import { StrategyRegistry } from './strategy-registry.js';
import { StrategyDto, StrategySchemaDto, toStrategyDto, toStrategySchemaDto } from './strategy.dto.js';

@ApiTags('strategies')
@Controller('api/v1/strategies')
@Public()
export class StrategiesController {
  constructor(private readonly registry: StrategyRegistry) {}

  @Get()
  @ApiOperation({ summary: 'List the built-in scoring strategies.' })
  @ApiOkResponse({ type: [StrategyDto] })
  list(): StrategyDto[] {
    return this.registry.list().map(toStrategyDto);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One strategy with its variables and defaults.' })
  @ApiOkResponse({ type: StrategyDto })
  @ApiNotFoundResponse({ description: 'Strategy not found with id: {id}' })
  get(@Param('id') id: string): StrategyDto {
    return toStrategyDto(this.registry.get(id));
  }

  @Get(':id/schema')
  @ApiOperation({ summary: 'One strategy with a JSON Schema of its variables.' })
  @ApiOkResponse({ type: StrategySchemaDto })
  @ApiNotFoundResponse({ description: 'Strategy not found with id: {id}' })
  schema(@Param('id') id: string): StrategySchemaDto {
    return toStrategySchemaDto(this.registry.get(id));
  }
}
