import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsObject, IsString, Length, Matches, ValidateNested } from 'class-validator';
import { PageQueryDto, SearchOptionsDto } from '../../common/pagination.js';
import { IsOptionalNotNull, NoNul, SLUG_3_60 } from '../validators.js';
import { GameParamPatchDto, ParamDto, ParamInputDto } from './param.dto.js';

const SLUG_MESSAGE = 'externalGameId must be 3-60 letters, digits, "_" or "-"';

export class CreateGameDto {
  @ApiProperty({ example: 'spring_campaign', pattern: SLUG_3_60.source })
  @IsString()
  @Matches(SLUG_3_60, { message: SLUG_MESSAGE })
  externalGameId: string;

  @ApiProperty({ example: 'web', minLength: 1, maxLength: 100 })
  @IsString()
  @NoNul()
  @Length(1, 100)
  platform: string;

  @ApiPropertyOptional({ example: 'default', description: 'A built-in strategy id (GET /strategies); default "default".' })
  @IsOptionalNotNull()
  @IsString()
  @Length(1, 100)
  strategyId?: string;

  @ApiPropertyOptional({ type: [ParamInputDto], maxItems: 100 })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(100)
  @IsObject({ each: true }) // ValidateNested alone lets an array element that is itself an array through
  @ValidateNested({ each: true })
  @Type(() => ParamInputDto)
  params?: ParamInputDto[];
}

export class UpdateGameDto {
  @ApiPropertyOptional({ example: 'spring_campaign', pattern: SLUG_3_60.source })
  @IsOptionalNotNull()
  @IsString()
  @Matches(SLUG_3_60, { message: SLUG_MESSAGE })
  externalGameId?: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @IsOptionalNotNull()
  @IsString()
  @NoNul()
  @Length(1, 100)
  platform?: string;

  @ApiPropertyOptional({ example: 'constantEffortStrategy' })
  @IsOptionalNotNull()
  @IsString()
  @Length(1, 100)
  strategyId?: string;

  @ApiPropertyOptional({
    type: [GameParamPatchDto],
    maxItems: 100,
    description: 'With `id`: changes that param (it must belong to the game). Without: adds a param, or replaces the one with that key.',
  })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(100)
  @IsObject({ each: true }) // ValidateNested alone lets an array element that is itself an array through
  @ValidateNested({ each: true })
  @Type(() => GameParamPatchDto)
  params?: GameParamPatchDto[];
}

export class DuplicateGameDto {
  @ApiProperty({ example: 'spring_campaign_copy', pattern: SLUG_3_60.source })
  @IsString()
  @Matches(SLUG_3_60, { message: SLUG_MESSAGE })
  externalGameId: string;
}

export class ListGamesQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ description: 'Substring of the externalGameId.' })
  @IsOptionalNotNull()
  @IsString()
  @NoNul()
  @Length(1, 100)
  externalGameId?: string;

  @ApiPropertyOptional({ description: 'Substring of the platform.' })
  @IsOptionalNotNull()
  @IsString()
  @NoNul()
  @Length(1, 100)
  platform?: string;
}

export class GameDto {
  @ApiProperty({ format: 'uuid' })
  gameId: string;

  @ApiProperty()
  externalGameId: string;

  @ApiProperty()
  platform: string;

  @ApiProperty({ example: 'default' })
  strategyId: string;

  @ApiProperty({ type: [ParamDto] })
  params: ParamDto[];

  @ApiProperty({ format: 'date-time' })
  created_at: Date;

  @ApiProperty({ format: 'date-time' })
  updated_at: Date;
}

export class GameWithMessageDto extends GameDto {
  @ApiProperty({ example: 'Game with gameId: 6f1c… created successfully' })
  message: string;
}

export class GamePageDto {
  @ApiProperty({ type: [GameDto] })
  items: GameDto[];

  @ApiProperty({ type: SearchOptionsDto })
  search_options: SearchOptionsDto;
}

export class GameUserDto {
  @ApiProperty()
  externalUserId: string;

  @ApiProperty({ format: 'date-time', description: 'When the user was created.' })
  created_at: Date;

  @ApiProperty({ format: 'date-time', description: 'The user’s first award on the task.' })
  firstAction: Date;
}

export class GameTaskUsersDto {
  @ApiProperty()
  externalTaskId: string;

  @ApiProperty({ type: [GameUserDto] })
  users: GameUserDto[];
}

export class GameUsersDto {
  @ApiProperty({ format: 'uuid' })
  gameId: string;

  @ApiProperty({ type: [GameTaskUsersDto] })
  tasks: GameTaskUsersDto[];
}
