import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, IsUUID, Matches } from 'class-validator';
import { VARIABLE_VALUE_SCHEMA } from '../../strategies/strategy.dto.js';
import { IsOptionalNotNull, IsParamValue, PARAM_KEY } from '../validators.js';

const VALUE_DESCRIPTION =
  'A string, number or boolean. When the key names a variable of the strategy, the value must have that variable’s type.';

export class ParamInputDto {
  @ApiProperty({ example: 'variable_basic_points', pattern: PARAM_KEY.source })
  @IsString()
  @Matches(PARAM_KEY, { message: 'key must be 1-100 letters, digits, "_", "-", "." or ":"' })
  key: string;

  @ApiProperty({ ...VARIABLE_VALUE_SCHEMA, example: 5, description: VALUE_DESCRIPTION })
  @IsParamValue()
  value: string | number | boolean;
}

/** A game param in a patch: with `id` it changes that param, without it adds (or replaces by key). */
export class GameParamPatchDto extends ParamInputDto {
  @ApiPropertyOptional({ format: 'uuid', description: 'The id of an existing param of this game.' })
  @IsOptionalNotNull()
  @IsUUID('all', { message: 'id must be a UUID' })
  id?: string;
}

export class ParamDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ example: 'variable_basic_points' })
  key: string;

  @ApiProperty({ ...VARIABLE_VALUE_SCHEMA, example: 5 })
  value: string | number | boolean;
}
