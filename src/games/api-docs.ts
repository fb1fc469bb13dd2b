import { applyDecorators } from '@nestjs/common';
import { ApiForbiddenResponse, ApiNotFoundResponse } from '@nestjs/swagger';

/** The 404/403 of every route under a game (API.md §2), plus the route's own 404s. */
export const GameErrors = (...other404s: string[]) =>
  applyDecorators(
    ApiNotFoundResponse({ description: ['Game not found by gameId: {gameId}', ...other404s].join(' | ') }),
    ApiForbiddenResponse({ description: 'You do not have permission to access this game' }),
  );
