import { afterEach, describe, expect, it } from 'vitest';
import { RedisService } from '../common/redis.service.js';
import { DomainError } from '../common/domain-error.js';
import { loadConfig } from '../config/config.schema.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { FixedWindowThrottlerStorage } from './fixed-window.storage.js';
import { RateLimitMetrics } from './rate-limit-metrics.js';

const from = (address: string) => ({ socket: { remoteAddress: address }, headers: {} });
const WINDOW_MS = 60_000;
const HOUR_MS = 3_600_000;

describe('AuthFailureLimiter', () => {
  const stops: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  function limiter(limit = 3) {
    const config = loadConfig({ AUTH_FAILURE_LIMIT_PER_IP: String(limit), RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_MS / 1000) });
    const redis = new RedisService(config);
    const storage = new FixedWindowThrottlerStorage(redis, new RateLimitMetrics());
    const clock = { now: 10 * WINDOW_MS + 5_000 };
    storage.now = () => clock.now;
    const limits = new AuthFailureLimiter(config, storage, new RateLimitMetrics());
    stops.push(async () => {
      limits.onApplicationShutdown();
      storage.onApplicationShutdown();
      await redis.onApplicationShutdown();
    });
    return { limits, clock, size: () => (limits as unknown as { addresses: Map<string, unknown> }).addresses.size };
  }

  const retryAfter = (action: () => unknown): string | undefined => {
    try {
      action();
    } catch (error) {
      if (error instanceof DomainError && error.status === 429) return error.options.headers?.['Retry-After'];
      throw error;
    }
    return undefined;
  };

  it('refuses once refusals reach the limit, until the window ends (Retry-After to its end)', () => {
    const { limits, clock } = limiter();
    for (let i = 0; i < 3; i++) limits.refuse(from('192.0.2.1'));
    expect(retryAfter(() => limits.refuse(from('192.0.2.1')))).toBe('55');
    expect(retryAfter(() => limits.begin(from('192.0.2.1'), 'qk_live_aaaaaaaa'))).toBe('55');
    expect(retryAfter(() => limits.begin(from('192.0.2.2'), 'qk_live_aaaaaaaa'))).toBeUndefined();
    clock.now += 55_000; // the next window
    expect(retryAfter(() => limits.refuse(from('192.0.2.1')))).toBeUndefined();
  });

  it('counts checks in flight, one place per distinct credential, and frees the place when a check succeeds', () => {
    const { limits } = limiter();
    const a = limits.begin(from('192.0.2.1'), 'one');
    const shared = limits.begin(from('192.0.2.1'), 'one'); // the same credential: no new place
    const b = limits.begin(from('192.0.2.1'), 'two');
    const c = limits.begin(from('192.0.2.1'), 'three');
    expect(retryAfter(() => limits.begin(from('192.0.2.1'), 'four'))).toBe('1'); // only checks in flight: they end soon
    limits.finish(a, false);
    expect(retryAfter(() => limits.begin(from('192.0.2.1'), 'four'))).toBe('1'); // 'one' still has a request in flight
    limits.finish(shared, false);
    const d = limits.begin(from('192.0.2.1'), 'four');
    for (const check of [b, c, d]) limits.finish(check, true); // three refusals: the limit
    expect(retryAfter(() => limits.begin(from('192.0.2.1'), 'five'))).toBe('55');
  });

  it('refuses a request joining a check in flight once the address is over on refusals', () => {
    const { limits } = limiter();
    const ip = from('192.0.2.1');
    const [first, second, y, z] = [limits.begin(ip, 'x'), limits.begin(ip, 'x'), limits.begin(ip, 'y'), limits.begin(ip, 'z')];
    for (const check of [first, y, z]) limits.finish(check, true); // three refusals; 'x' still has a request in flight
    expect(retryAfter(() => limits.begin(ip, 'x'))).toBe('55');
    limits.finish(second, true);
  });

  it('lets a key verified here in the last hour through a blocked address', () => {
    const { limits, clock } = limiter(1);
    limits.finish(limits.begin(from('192.0.2.1'), 'qk_live_goodgood', 'qk_live_goodgood'), false);
    limits.keyVerified('qk_live_goodgood');
    limits.refuse(from('192.0.2.1'));
    expect(retryAfter(() => limits.begin(from('192.0.2.1'), 'qk_live_madeup00', 'qk_live_madeup00'))).toBe('55');
    const exempt = limits.begin(from('192.0.2.1'), 'qk_live_goodgood', 'qk_live_goodgood'); // no 429
    expect(exempt).toBeDefined();
    limits.finish(exempt, false);
    clock.now += HOUR_MS; // an hour later, in a window where the address is blocked again
    limits.refuse(from('192.0.2.1'));
    expect(retryAfter(() => limits.begin(from('192.0.2.1'), 'qk_live_goodgood', 'qk_live_goodgood'))).toBeDefined();
  });

  it('forgets addresses whose window is over and that have nothing in flight', () => {
    const { limits, clock, size } = limiter();
    limits.refuse(from('192.0.2.1'));
    const inFlight = limits.begin(from('192.0.2.2'), 'pending');
    expect(size()).toBe(2);
    clock.now += WINDOW_MS;
    limits.sweep();
    expect(size()).toBe(1); // 192.0.2.2 still has a check running
    limits.finish(inFlight, false);
    limits.sweep();
    expect(size()).toBe(0);
  });

  it('does nothing when off', () => {
    const { limits, size } = limiter(0);
    for (let i = 0; i < 10; i++) limits.refuse(from('192.0.2.1'));
    expect(limits.begin(from('192.0.2.1'), 'x')).toBeUndefined();
    expect(size()).toBe(0);
  });
});
