import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { RedisService } from '../common/redis.service.js';
import { fixedWindow, MemoryWindowCounters, type HitOutcome, type WindowCheck } from './fixed-window.js';
import { RateLimitMetrics } from './rate-limit-metrics.js';

/** Prefix of every counter key in Redis. */
export const REDIS_KEY_PREFIX = 'ql:rl:';

/** Redis keys outlive their window by this much, so an instance whose clock runs a little late still finds them. */
const EXPIRY_SLACK_MS = 5_000;

/** After a failed Redis command, checks stay in memory this long before Redis is tried again. */
const RETRY_AFTER_FAILURE_MS = 1_000;

/**
 * Counts the checks in order with one atomic `INCR` (+ `PEXPIRE` on a window's first hit) each, and stops at the
 * first that goes over its limit. KEYS[i] is check i's counter in its current window; ARGV[2i-1] its limit and
 * ARGV[2i] the milliseconds the key lives. One round trip per request, whatever the number of limits.
 */
const HIT_SCRIPT = `
local counts = {}
for i = 1, #KEYS do
  local count = redis.call('INCR', KEYS[i])
  if count == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[2 * i]) end
  counts[i] = count
  if count > tonumber(ARGV[2 * i - 1]) then break end
end
return counts
`;

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;
type ScriptedRedis = Redis & { questlineRateLimitHit(...args: Array<string | number>): Promise<number[]> };

/**
 * The throttler storage (API.md §9): fixed windows aligned to the clock, in Redis when `REDIS_URL` is set (shared by
 * every instance, atomic, one round trip per request), else in this process. When Redis is configured but not ready,
 * or a command fails, it fails open to the in-process counters: the API keeps serving with per-instance limits and
 * never waits on Redis for longer than the client's command timeout.
 */
@Injectable()
export class FixedWindowThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  readonly memory = new MemoryWindowCounters();
  /** The time source; tests replace it. */
  now: () => number = () => Date.now();
  private skipRedisUntil = 0;

  constructor(
    private readonly redis: RedisService,
    private readonly metrics: RateLimitMetrics,
  ) {
    redis.client?.defineCommand('questlineRateLimitHit', { lua: HIT_SCRIPT });
  }

  /** Counts one request against `checks` (in order of precedence); see {@link HitOutcome}. */
  async hit(checks: readonly WindowCheck[]): Promise<HitOutcome> {
    return this.count(checks);
  }

  /**
   * As {@link hit}, but answered without a promise when the counters live in this process (no `REDIS_URL`): the
   * guard then decides a request synchronously.
   */
  count(checks: readonly WindowCheck[]): HitOutcome | Promise<HitOutcome> {
    if (!this.redis.enabled) return this.memory.hit(checks, this.now());
    return this.countShared(checks);
  }

  /** In Redis when it is ready; else (and after a failed command, for a while) in this process, counted as a fallback. */
  private async countShared(checks: readonly WindowCheck[]): Promise<HitOutcome> {
    const nowMs = this.now();
    if (this.redis.ready && nowMs >= this.skipRedisUntil) {
      try {
        return await this.hitRedis(checks, nowMs);
      } catch {
        // Logged and counted as an outage by RedisService (unless Redis answered with an error).
        this.skipRedisUntil = nowMs + RETRY_AFTER_FAILURE_MS;
      }
    }
    this.metrics.redisFallbacks++;
    return this.memory.hit(checks, nowMs);
  }

  /** `ThrottlerStorage` for a single named throttler (the stock `ThrottlerGuard` calls this). */
  async increment(key: string, ttl: number, limit: number): Promise<ThrottlerStorageRecord> {
    const { counts, blocked } = await this.hit([{ key, limit, ttlMs: ttl }]);
    const timeToExpire = Math.ceil(counts[0].remainingMs / 1000);
    return { totalHits: counts[0].count, timeToExpire, isBlocked: blocked === 0, timeToBlockExpire: blocked === 0 ? timeToExpire : 0 };
  }

  private async hitRedis(checks: readonly WindowCheck[], nowMs: number): Promise<HitOutcome> {
    const keys: string[] = [];
    const args: Array<string | number> = [];
    const remaining: number[] = [];
    for (const check of checks) {
      const window = fixedWindow(nowMs, check.ttlMs);
      keys.push(`${REDIS_KEY_PREFIX}${check.key}:${window.id}`);
      args.push(check.limit, window.remainingMs + EXPIRY_SLACK_MS);
      remaining.push(window.remainingMs);
    }
    const counts = await this.redis.command((client) => (client as ScriptedRedis).questlineRateLimitHit(keys.length, ...keys, ...args));
    const blocked = counts.length > 0 && counts[counts.length - 1] > checks[counts.length - 1].limit ? counts.length - 1 : -1;
    return { counts: counts.map((count, index) => ({ count, remainingMs: remaining[index] })), blocked, shared: true };
  }

  onApplicationShutdown(): void {
    this.memory.stop();
  }
}
