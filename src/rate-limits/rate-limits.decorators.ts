import { applyDecorators, SetMetadata, UseGuards } from '@nestjs/common';
import { ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { RATE_LIMIT_POLICY, RateLimitGuard } from './rate-limit.guard.js';
import type { RateLimitPolicy } from './rate-limits.policy.js';

const retryAfter = { 'Retry-After': { description: 'Seconds until the window that tripped resets.', schema: { type: 'integer' } } };

function limited(policy: RateLimitPolicy, description: string) {
  return applyDecorators(
    SetMetadata(RATE_LIMIT_POLICY, policy),
    UseGuards(RateLimitGuard),
    ApiTooManyRequestsResponse({ description, headers: retryAfter }),
  );
}

/**
 * The four GAME limits of `…/points` and `…/action` (API.md §9): per API key (bearer-only: per subject), per client
 * IP, per `externalUserId`, and the daily quota per key. Counted after authentication and before validation.
 */
export const SensitiveTaskLimits = () =>
  limited(
    'sensitive-task',
    'A rate limit tripped (the first in this order answers): `API key rate limit exceeded for sensitive task operations.`, ' +
      '`IP rate limit exceeded for sensitive task operations.`, `externalUserId rate limit exceeded for sensitive task operations.`, ' +
      '`Daily API key quota exceeded for sensitive task operations.` Successful responses carry `X-RateLimit-Limit`, ' +
      '`X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds) of the tightest limit.',
  );

/** The simulation quota per token subject, per window and per UTC day (API.md §9). */
export const SimulationQuota = () =>
  limited(
    'simulation',
    '`Simulation quota exceeded.` (per subject, per window and per UTC day). Successful responses carry `X-RateLimit-Limit`, ' +
      '`X-RateLimit-Remaining` and `X-RateLimit-Reset` (seconds) of the tightest limit.',
  );
