import { ApiProperty } from '@nestjs/swagger';
import type { ScoringStrategy, VariableType, VariableValue } from './strategy.js';

export const VARIABLE_VALUE_SCHEMA = { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] };

export class StrategyVariableDto {
  @ApiProperty({ example: 'variable_basic_points' })
  name: string;

  @ApiProperty({ enum: ['integer', 'number', 'string', 'boolean'] })
  type: VariableType;

  @ApiProperty({ ...VARIABLE_VALUE_SCHEMA, example: 1 })
  defaultValue: VariableValue;
}

/** What every description of a strategy carries. */
export class StrategyInfoDto {
  @ApiProperty({ example: 'default' })
  id: string;

  @ApiProperty({ example: 'EnhancedGamificationStrategy' })
  name: string;

  @ApiProperty()
  description: string;

  @ApiProperty({ example: '0.0.2' })
  version: string;
}

export class StrategyDto extends StrategyInfoDto {
  @ApiProperty({ type: [StrategyVariableDto] })
  variables: StrategyVariableDto[];
}

export class StrategySchemaDto extends StrategyDto {
  @ApiProperty({
    description: 'A JSON Schema of the variables, as game or task params must give them.',
    type: 'object',
    additionalProperties: true,
  })
  jsonSchema: Record<string, unknown>;
}

export function toStrategyDto(strategy: ScoringStrategy): StrategyDto {
  return {
    id: strategy.id,
    name: strategy.name,
    description: strategy.description,
    version: strategy.version,
    variables: strategy.variables.map(({ name, type, defaultValue }) => ({ name, type, defaultValue })),
  };
}

export function toStrategySchemaDto(strategy: ScoringStrategy): StrategySchemaDto {
  const properties: Record<string, unknown> = {};
  for (const variable of strategy.variables) properties[variable.name] = { type: variable.type, default: variable.defaultValue };
  return { ...toStrategyDto(strategy), jsonSchema: { type: 'object', properties, additionalProperties: true } };
}

/**
 * A strategy as a game or task uses it: `variables` maps each variable to its value after game params, then task
 * params (GAME's shape).
 */
export class EffectiveStrategyDto extends StrategyInfoDto {
  @ApiProperty({
    type: 'object',
    additionalProperties: VARIABLE_VALUE_SCHEMA,
    example: { variable_basic_points: 1, variable_bonus_points: 10 },
    description: 'Each variable with the value in effect (defaults ← game params ← task params).',
  })
  variables: Record<string, VariableValue>;
}
