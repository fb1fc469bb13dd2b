import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { Auth, type Authenticated, EitherCredential } from '../auth/auth.decorators.js';
import { EffectiveStrategyDto } from '../strategies/strategy.dto.js';
import { CreateGameDto, DuplicateGameDto, GameDto, GamePageDto, GameUsersDto, GameWithMessageDto, ListGamesQueryDto, UpdateGameDto } from './dto/game.dto.js';
import { GamesService } from './games.service.js';
import { GameErrors } from './api-docs.js';

@ApiTags('games')
@Controller('api/v1/games')
@EitherCredential()
@ApiUnauthorizedResponse({ description: 'Invalid authentication credentials' })
export class GamesController {
  constructor(private readonly games: GamesService) {}

  @Get()
  @ApiOperation({ summary: 'List the games the caller can see (an admin sees all).' })
  @ApiOkResponse({ type: GamePageDto })
  @ApiUnprocessableEntityResponse({ description: 'Bad page, page_size or ordering.' })
  list(@Auth() { auth }: Authenticated, @Query() query: ListGamesQueryDto) {
    return this.games.list(auth, query);
  }

  @Post()
  @ApiOperation({ summary: 'Create a game owned by the caller (its API key, else its token subject).' })
  @ApiCreatedResponse({ type: GameWithMessageDto })
  @ApiNotFoundResponse({ description: 'Strategy with id: {x} not found' })
  @ApiConflictResponse({ description: 'Game already exists with externalGameId: {x}' })
  @ApiUnprocessableEntityResponse({ description: 'Validation failed (slug, lengths, params, unknown fields).' })
  create(@Auth() { auth }: Authenticated, @Body() dto: CreateGameDto) {
    return this.games.create(auth, dto);
  }

  @Get(':gameId')
  @ApiOperation({ summary: 'One game with its params.' })
  @ApiOkResponse({ type: GameDto })
  @GameErrors()
  get(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string) {
    return this.games.get(auth, gameId);
  }

  @Patch(':gameId')
  @ApiOperation({ summary: 'Change a game; params with an id change that param, without one they are added.' })
  @ApiOkResponse({ type: GameWithMessageDto })
  @GameErrors('GameParams not found (id) : {id}', 'Strategy with id: {x} not found')
  @ApiConflictResponse({ description: 'Game already exists with externalGameId: {x}' })
  @ApiUnprocessableEntityResponse({ description: 'Empty patch: no fields provided. / validation failed' })
  update(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string, @Body() dto: UpdateGameDto) {
    return this.games.update(auth, gameId, dto);
  }

  @Delete(':gameId')
  @ApiOperation({ summary: 'Delete a game with its tasks and params (soft delete); awards and wallets are kept.' })
  @ApiOkResponse({ type: GameWithMessageDto, description: 'The deleted game.' })
  @GameErrors()
  remove(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string) {
    return this.games.remove(auth, gameId);
  }

  @Post(':gameId/duplicate')
  @ApiOperation({ summary: 'Copy a game, with its tasks and params, into the caller’s namespace.' })
  @ApiCreatedResponse({ type: GameWithMessageDto })
  @GameErrors()
  @ApiConflictResponse({ description: 'Game already exists with externalGameId: {x}' })
  duplicate(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string, @Body() dto: DuplicateGameDto) {
    return this.games.duplicate(auth, gameId, dto);
  }

  @Get(':gameId/strategy')
  @ApiOperation({ summary: 'The game’s strategy with its variables after the game params.' })
  @ApiOkResponse({ type: EffectiveStrategyDto })
  @GameErrors()
  strategy(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string) {
    return this.games.strategy(auth, gameId);
  }

  @Get(':gameId/users')
  @HttpCode(200)
  @ApiOperation({ summary: 'Users with awards in the game, per task.' })
  @ApiOkResponse({ type: GameUsersDto })
  @GameErrors()
  users(@Auth() { auth }: Authenticated, @Param('gameId') gameId: string) {
    return this.games.users(auth, gameId);
  }
}
