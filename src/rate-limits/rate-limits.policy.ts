import type { AppConfig } from '../config/config.schema.js';

export const DAY_MS = 86_400_000;

/**
 * The named throttlers (API.md §9), and `auth-failures` (the per-IP limit on refused credentials,
 * `AuthFailureLimiter`); also the `limit` label of the rejection metric.
 */
export type LimitName = 'api-key' | 'ip' | 'external-user' | 'api-key-daily' | 'simulation' | 'simulation-daily' | 'auth-failures';

/** What a caller is counted by: its API key (or, bearer-only, its subject), its IP, or the awarded end user. */
export type TrackerKind = 'caller' | 'ip' | 'external-user' | 'subject';

export interface LimitDefinition {
  name: LimitName;
  tracker: TrackerKind;
  /** Requests per window; 0 = off. */
  limit: number;
  /** Window length in ms; windows are aligned to the clock (a day-long window starts at 00:00 UTC). */
  ttlMs: number;
  /** The 429 `detail` (GAME's wording). */
  detail: string;
}

/** Routes guarded by the rate-limit guard name one of these policies. */
export type RateLimitPolicy = 'sensitive-task' | 'simulation';

const SENSITIVE = 'rate limit exceeded for sensitive task operations.';

/**
 * Every limit in API.md §9's table order, which is also the order of precedence: when several would trip, the
 * first answers (and the later ones are not counted for that request).
 */
export function limitDefinitions(config: AppConfig): Record<RateLimitPolicy, LimitDefinition[]> {
  const windowMs = config.rateLimitWindowSeconds * 1000;
  return {
    'sensitive-task': [
      { name: 'api-key', tracker: 'caller', limit: config.rateLimitPerApiKey, ttlMs: windowMs, detail: `API key ${SENSITIVE}` },
      { name: 'ip', tracker: 'ip', limit: config.rateLimitPerIp, ttlMs: windowMs, detail: `IP ${SENSITIVE}` },
      {
        name: 'external-user',
        tracker: 'external-user',
        limit: config.rateLimitPerExternalUser,
        ttlMs: windowMs,
        detail: `externalUserId ${SENSITIVE}`,
      },
      {
        name: 'api-key-daily',
        tracker: 'caller',
        limit: config.dailyQuotaPerApiKey,
        ttlMs: DAY_MS,
        detail: 'Daily API key quota exceeded for sensitive task operations.',
      },
    ],
    simulation: [
      { name: 'simulation', tracker: 'subject', limit: config.simulationRateLimit, ttlMs: windowMs, detail: 'Simulation quota exceeded.' },
      { name: 'simulation-daily', tracker: 'subject', limit: config.simulationDailyQuota, ttlMs: DAY_MS, detail: 'Simulation quota exceeded.' },
    ],
  };
}
