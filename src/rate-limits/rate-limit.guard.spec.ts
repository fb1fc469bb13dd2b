import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ThrottlerModuleOptions, ThrottlerOptions } from '@nestjs/throttler';
import { describe, expect, it } from 'vitest';
import { RedisService } from '../common/redis.service.js';
import { DomainError } from '../common/domain-error.js';
import { loadConfig } from '../config/config.schema.js';
import { FixedWindowThrottlerStorage } from './fixed-window.storage.js';
import { RATE_LIMIT_POLICY, RateLimitGuard } from './rate-limit.guard.js';
import { RateLimitMetrics } from './rate-limit-metrics.js';
import { rateLimitSettings, throttlerOptions } from './rate-limits.module.js';

class Routes {
  limited() {}
  open() {}
}
Reflect.defineMetadata(RATE_LIMIT_POLICY, 'sensitive-task', Routes.prototype.limited);

function guardWith(env: Record<string, string>, asyncTrackers = false) {
  const config = loadConfig({ RATE_LIMIT_PER_API_KEY: '2', RATE_LIMIT_PER_IP: '100', ...env });
  const redis = new RedisService(config);
  const storage = new FixedWindowThrottlerStorage(redis, new RateLimitMetrics());
  const options = throttlerOptions(config, storage) as ThrottlerModuleOptions & { throttlers: ThrottlerOptions[] };
  if (asyncTrackers) {
    for (const throttler of options.throttlers) {
      const track = throttler.getTracker!;
      throttler.getTracker = async (req, context) => track(req, context);
    }
  }
  const guard = new RateLimitGuard(options, storage, new Reflector(), rateLimitSettings(config), new RateLimitMetrics());
  const close = async () => {
    storage.onApplicationShutdown();
    await redis.onApplicationShutdown();
  };
  return { guard, close };
}

function request(handler: () => void) {
  const headers: Record<string, string> = {};
  const req = { auth: { apiKey: { id: 'key-1' } }, body: { externalUserId: 'u1' }, ip: '10.0.0.1', socket: { remoteAddress: '10.0.0.1' }, headers: {} };
  const res = { header: (name: string, value: string) => (headers[name] = value) };
  const context = {
    getHandler: () => handler,
    getClass: () => Routes,
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
  } as unknown as ExecutionContext;
  return { context, headers };
}

/** A fresh guard's first counted request, when the decision must be awaited: it passes, with one request left. */
async function passesAfterAwaiting(guard: RateLimitGuard): Promise<void> {
  const first = request(Routes.prototype.limited);
  const decision = guard.canActivate(first.context);
  expect(decision).toBeInstanceOf(Promise);
  await expect(decision).resolves.toBe(true);
  expect(first.headers['X-RateLimit-Remaining']).toBe('1');
}

describe('RateLimitGuard', () => {
  it('decides without a promise when the counters are in this process: passes with the tightest limit’s headers, then refuses', async () => {
    const { guard, close } = guardWith({});
    try {
      const first = request(Routes.prototype.limited);
      expect(guard.canActivate(first.context)).toBe(true);
      expect(first.headers).toEqual({ 'X-RateLimit-Limit': '2', 'X-RateLimit-Remaining': '1', 'X-RateLimit-Reset': expect.stringMatching(/^\d+$/) });
      expect(guard.canActivate(request(Routes.prototype.limited).context)).toBe(true);
      let refused: unknown;
      try {
        guard.canActivate(request(Routes.prototype.limited).context);
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(DomainError);
      expect((refused as DomainError).message).toBe('API key rate limit exceeded for sensitive task operations.');
      // A route without a policy is not counted.
      expect(guard.canActivate(request(Routes.prototype.open).context)).toBe(true);
    } finally {
      await close();
    }
  });

  it('awaits the count when the counters are shared (Redis configured), and still counts when Redis is not reachable', async () => {
    // Nothing listens on port 1: the storage fails open to this process's counters, after trying.
    const { guard, close } = guardWith({ REDIS_URL: 'redis://127.0.0.1:1' });
    try {
      await passesAfterAwaiting(guard);
    } finally {
      await close();
    }
  });

  it('awaits trackers that answer with a promise, and counts the same', async () => {
    const { guard, close } = guardWith({}, true);
    try {
      await passesAfterAwaiting(guard);
      await expect(guard.canActivate(request(Routes.prototype.limited).context)).resolves.toBe(true);
      await expect(guard.canActivate(request(Routes.prototype.limited).context)).rejects.toThrow('API key rate limit exceeded for sensitive task operations.');
    } finally {
      await close();
    }
  });

  it('lets everything through without counting when limits are off', async () => {
    const { guard, close } = guardWith({ RATE_LIMITS_ENABLED: 'false' });
    const passed = request(Routes.prototype.limited);
    for (let i = 0; i < 5; i++) expect(guard.canActivate(passed.context)).toBe(true);
    expect(passed.headers).toEqual({});
    await close();
  });
});
