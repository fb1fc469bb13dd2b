import { describe, expect, it } from 'vitest';
import type { AppConfig } from '../config/config.schema.js';
import { RedisService } from '../common/redis.service.js';
import { fixedWindow, MemoryWindowCounters } from './fixed-window.js';
import { FixedWindowThrottlerStorage } from './fixed-window.storage.js';
import { RateLimitMetrics } from './rate-limit-metrics.js';
import { DAY_MS } from './rate-limits.policy.js';

const at = (iso: string) => Date.parse(iso);

describe('fixed windows aligned to the clock', () => {
  it('aligns a day-long window to 00:00 UTC', () => {
    const late = fixedWindow(at('2026-11-25T23:59:59.000Z'), DAY_MS);
    const early = fixedWindow(at('2026-11-25T00:00:00.000Z'), DAY_MS);
    const next = fixedWindow(at('2026-11-26T00:00:00.000Z'), DAY_MS);
    expect(late.id).toBe(early.id);
    expect(next.id).toBe(early.id + 1);
    expect(late.remainingMs).toBe(1000);
    expect(early.remainingMs).toBe(DAY_MS);
    // Whatever the local time zone of the server: epoch milliseconds are UTC.
    expect(fixedWindow(at('2026-11-25T12:00:00.000+05:00'), DAY_MS).remainingMs).toBe(at('2026-11-26T00:00:00Z') - at('2026-11-25T07:00:00Z'));
  });

  it('aligns a minute window to the minute', () => {
    expect(fixedWindow(at('2026-11-25T10:00:59.250Z'), 60_000).remainingMs).toBe(750);
    expect(fixedWindow(at('2026-11-25T10:01:00.000Z'), 60_000).id).toBe(fixedWindow(at('2026-11-25T10:00:59.999Z'), 60_000).id + 1);
  });
});

describe('in-memory counters', () => {
  it('counts per key and window, stops at the first limit that goes over, and starts afresh in the next window', () => {
    const counters = new MemoryWindowCounters();
    const now = at('2026-11-25T10:00:00.000Z');
    const checks = [
      { key: 'api-key:k', limit: 2, ttlMs: 60_000 },
      { key: 'ip:1.2.3.4', limit: 10, ttlMs: 60_000 },
    ];
    expect(counters.hit(checks, now)).toEqual({ counts: [{ count: 1, remainingMs: 60_000 }, { count: 1, remainingMs: 60_000 }], blocked: -1, shared: false });
    expect(counters.hit(checks, now + 1000).blocked).toBe(-1);
    const third = counters.hit(checks, now + 2000);
    expect(third).toEqual({ counts: [{ count: 3, remainingMs: 58_000 }], blocked: 0, shared: false });
    // The refused request was not counted against the IP.
    expect(counters.hit([checks[1]], now + 3000).counts[0].count).toBe(3);
    expect(counters.hit(checks, now + 60_000).counts[0]).toEqual({ count: 1, remainingMs: 60_000 });
    counters.stop();
  });

  it('sweeps windows that have ended', () => {
    const counters = new MemoryWindowCounters();
    const now = at('2026-11-25T10:00:30.000Z');
    counters.hit([{ key: 'a', limit: 5, ttlMs: 60_000 }], now);
    counters.hit([{ key: 'b', limit: 5, ttlMs: DAY_MS }], now);
    counters.sweep(now + 30_000);
    expect(counters.size).toBe(1);
    counters.stop();
  });

  it('stays O(1) under one hot key (a counter, not a timestamp per hit)', () => {
    const counters = new MemoryWindowCounters();
    const checks = [{ key: 'hot', limit: 1e9, ttlMs: 60_000 }];
    const now = Date.now();
    const time = (n: number) => {
      const started = performance.now();
      for (let i = 0; i < n; i++) counters.hit(checks, now);
      return performance.now() - started;
    };
    time(50_000); // warm up
    const first = time(100_000);
    const later = time(100_000); // with 150k hits already in the window
    expect(later).toBeLessThan(first * 3 + 20);
    expect(counters.size).toBe(1);
    counters.stop();
  });
});

describe('throttler storage without Redis', () => {
  const config = { redisUrl: undefined } as AppConfig;

  it('resets the daily quota at 00:00 UTC (injected clock)', async () => {
    const storage = new FixedWindowThrottlerStorage(new RedisService(config), new RateLimitMetrics());
    const daily = [{ key: 'api-key-daily:key:1', limit: 2, ttlMs: DAY_MS }];
    storage.now = () => at('2026-11-25T23:59:58.000Z');
    expect((await storage.hit(daily)).blocked).toBe(-1);
    expect((await storage.hit(daily)).blocked).toBe(-1);
    const refused = await storage.hit(daily);
    expect(refused.blocked).toBe(0);
    expect(refused.counts[0].remainingMs).toBe(2000);
    storage.now = () => at('2026-11-26T00:00:00.000Z');
    expect(await storage.hit(daily)).toEqual({ counts: [{ count: 1, remainingMs: DAY_MS }], blocked: -1, shared: false });
    storage.onApplicationShutdown();
  });

  it('implements ThrottlerStorage.increment for a single named throttler', async () => {
    const storage = new FixedWindowThrottlerStorage(new RedisService(config), new RateLimitMetrics());
    storage.now = () => at('2026-11-25T10:00:59.500Z');
    expect(await storage.increment('x', 60_000, 1)).toEqual({ totalHits: 1, timeToExpire: 1, isBlocked: false, timeToBlockExpire: 0 });
    expect(await storage.increment('x', 60_000, 1)).toEqual({ totalHits: 2, timeToExpire: 1, isBlocked: true, timeToBlockExpire: 1 });
    storage.onApplicationShutdown();
  });
});
