import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsObject, IsString, Length, ValidateNested } from 'class-validator';
import { PageQueryDto, SearchOptionsDto } from '../../common/pagination.js';
import { ParamDto, ParamInputDto } from '../../games/dto/param.dto.js';
import { EffectiveStrategyDto } from '../../strategies/strategy.dto.js';
import { IsOptionalNotNull, NoNul } from '../../games/validators.js';
import type { TaskStatus } from '../task.entity.js';

const STATUSES: TaskStatus[] = ['open', 'closed'];

class TaskFieldsDto {
  @ApiPropertyOptional({ example: 'default', description: 'A built-in strategy id; without one the task uses the game’s strategy.' })
  @IsOptionalNotNull()
  @IsString()
  @Length(1, 100)
  strategyId?: string;

  @ApiPropertyOptional({ enum: STATUSES, default: 'open' })
  @IsOptionalNotNull()
  @IsIn(STATUSES)
  status?: TaskStatus;

  @ApiPropertyOptional({ type: [ParamInputDto], maxItems: 100 })
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(100)
  @IsObject({ each: true }) // ValidateNested alone lets an array element that is itself an array through
  @ValidateNested({ each: true })
  @Type(() => ParamInputDto)
  params?: ParamInputDto[];
}

export class CreateTaskDto extends TaskFieldsDto {
  @ApiProperty({ example: 'daily_login', minLength: 1, maxLength: 100 })
  @IsString()
  @NoNul()
  @Length(1, 100)
  externalTaskId: string;
}

/** `params`, when given, is the full desired set of task params (it replaces the current ones). */
export class UpdateTaskDto extends TaskFieldsDto {}

export class BulkCreateTasksDto {
  @ApiProperty({ type: [CreateTaskDto], maxItems: 500 })
  @IsArray()
  @ArrayMaxSize(500)
  @IsObject({ each: true }) // ValidateNested alone lets an array element that is itself an array through
  @ValidateNested({ each: true })
  @Type(() => CreateTaskDto)
  tasks: CreateTaskDto[];
}

export class DuplicateTaskDto {
  @ApiProperty({ example: 'daily_login_copy', minLength: 1, maxLength: 100 })
  @IsString()
  @NoNul()
  @Length(1, 100)
  externalTaskId: string;
}

export class ListTasksQueryDto extends PageQueryDto {}

export class TaskDto {
  @ApiProperty({ format: 'uuid' })
  taskId: string;

  @ApiProperty()
  externalTaskId: string;

  @ApiProperty({ format: 'uuid' })
  gameId: string;

  @ApiProperty({ enum: STATUSES })
  status: TaskStatus;

  @ApiProperty({ description: 'The strategy in effect (the task’s own, else the game’s).' })
  strategyId: string;

  @ApiProperty({ type: [ParamDto] })
  gameParams: ParamDto[];

  @ApiProperty({ type: [ParamDto] })
  taskParams: ParamDto[];

  @ApiProperty({ type: EffectiveStrategyDto })
  strategy: EffectiveStrategyDto;

  @ApiProperty({ format: 'date-time' })
  created_at: Date;

  @ApiProperty({ format: 'date-time' })
  updated_at: Date;
}

export class TaskPageDto {
  @ApiProperty({ type: [TaskDto] })
  items: TaskDto[];

  @ApiProperty({ type: SearchOptionsDto })
  search_options: SearchOptionsDto;
}

export class FailedTaskDto {
  @ApiProperty({ type: CreateTaskDto })
  task: CreateTaskDto;

  @ApiProperty({ example: 'Task already exists with externalTaskId: daily_login for gameId: …' })
  error: string;
}

export class BulkCreatedTasksDto {
  @ApiProperty({ type: [TaskDto], description: 'GAME’s spelling.' })
  succesfully_created: TaskDto[];

  @ApiProperty({ type: [FailedTaskDto] })
  failed_to_create: FailedTaskDto[];
}
