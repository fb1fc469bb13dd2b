import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { Auth, type Authenticated, EitherCredential } from '../auth/auth.decorators.js';
import { GameErrors } from '../games/api-docs.js';
import { BulkCreatedTasksDto, BulkCreateTasksDto, CreateTaskDto, DuplicateTaskDto, ListTasksQueryDto, TaskDto, TaskPageDto, UpdateTaskDto } from './dto/task.dto.js';
import { TasksService } from './tasks.service.js';

const STRATEGY_NOT_FOUND = 'Strategy with id: {x} not found';
const TASK_BY_ID_NOT_FOUND = 'Task not found by taskId: {taskId}';

@ApiTags('tasks')
@Controller('api/v1/games/:gameId/tasks')
@EitherCredential()
@ApiUnauthorizedResponse({ description: 'Invalid authentication credentials' })
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Post()
  @ApiOperation({ summary: 'Create a task in the game.' })
  @ApiCreatedResponse({ type: TaskDto })
  @GameErrors(STRATEGY_NOT_FOUND)
  @ApiConflictResponse({ description: 'Task already exists with externalTaskId: {x} for gameId: {gameId}' })
  @ApiUnprocessableEntityResponse({ description: 'Validation failed.' })
  create(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string, @Body() dto: CreateTaskDto) {
    return this.tasks.create(auth, gameId, dto);
  }

  @Post('bulk')
  @HttpCode(200)
  @ApiOperation({ summary: 'Create up to 500 tasks; those that cannot be created are listed with the reason.' })
  @ApiOkResponse({ type: BulkCreatedTasksDto })
  @GameErrors()
  @ApiUnprocessableEntityResponse({ description: 'Validation failed (more than 500 tasks, malformed task bodies).' })
  bulk(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string, @Body() dto: BulkCreateTasksDto) {
    return this.tasks.bulkCreate(auth, gameId, dto);
  }

  @Get()
  @ApiOperation({ summary: 'The game’s tasks, paginated (ordering created_at, externalTaskId, status).' })
  @ApiOkResponse({ type: TaskPageDto })
  @GameErrors()
  list(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string, @Query() query: ListTasksQueryDto) {
    return this.tasks.list(auth, gameId, query);
  }

  @Get(':externalTaskId')
  @ApiOperation({ summary: 'One task by its externalTaskId.' })
  @ApiOkResponse({ type: TaskDto })
  @GameErrors('Task not found with externalTaskId: {x} for gameId: {gameId}')
  get(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string, @Param('externalTaskId') externalTaskId: string) {
    return this.tasks.get(auth, gameId, externalTaskId);
  }

  @Patch(':taskId')
  @ApiOperation({ summary: 'Change a task’s strategy, status or params (params = the full desired set).' })
  @ApiOkResponse({ type: TaskDto })
  @GameErrors(TASK_BY_ID_NOT_FOUND, STRATEGY_NOT_FOUND)
  @ApiUnprocessableEntityResponse({ description: 'Empty patch: no fields provided. / validation failed' })
  update(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string, @Param('taskId') taskId: string, @Body() dto: UpdateTaskDto) {
    return this.tasks.update(auth, gameId, taskId, dto);
  }

  @Delete(':taskId')
  @ApiOperation({ summary: 'Delete a task (soft delete); its awards are kept.' })
  @ApiOkResponse({ type: TaskDto, description: 'The deleted task.' })
  @GameErrors(TASK_BY_ID_NOT_FOUND)
  remove(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string, @Param('taskId') taskId: string) {
    return this.tasks.remove(auth, gameId, taskId);
  }

  @Post(':taskId/duplicate')
  @ApiOperation({ summary: 'Copy a task, with its params, under a new externalTaskId.' })
  @ApiCreatedResponse({ type: TaskDto })
  @GameErrors(TASK_BY_ID_NOT_FOUND)
  @ApiConflictResponse({ description: 'Task already exists with externalTaskId: {x} for gameId: {gameId}' })
  duplicate(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string, @Param('taskId') taskId: string, @Body() dto: DuplicateTaskDto) {
    return this.tasks.duplicate(auth, gameId, taskId, dto);
  }
}
