import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisService } from '../../src/common/redis.service.js';
import { RateLimitMetrics } from '../../src/rate-limits/rate-limit-metrics.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { adminToken, createApiKey } from '../support/auth.js';
import { hasRedisServer } from '../support/requirements.js';
import { credentials, DETAIL, expect429, gameWithTask, onlyLimits, send, sleep } from './fixtures.js';
import { asTestApp, RedisServer, startInstance, type Instance } from './instances.js';

// Redis stopped mid-test: instance A runs in this process (so its counters can be read), instance B in its own.
// Both use a redis-server of this file's own, which the test kills and starts again on the same port.

const LIMIT = 6;

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe.skipIf(!hasRedisServer())('Redis goes down and comes back', () => {
  let redis: RedisServer;
  let a: TestApp;
  let b: Instance;

  beforeAll(async () => {
    redis = await RedisServer.start();
    const env = onlyLimits({ RATE_LIMIT_PER_API_KEY: LIMIT, RATE_LIMIT_WINDOW_SECONDS: 3600 }, { REDIS_URL: redis.url, API_KEY_CACHE_TTL_SECONDS: '2' });
    [a, b] = await Promise.all([startTestApp(env), startInstance(env)]);
    await until(() => a.app.get(RedisService).ready, 'A to connect to Redis');
  }, 120_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.stop()]);
    await redis?.kill();
  });

  it('fails open to per-instance counters without hanging, logs and counts the outage, and shares counters again once Redis is back', async () => {
    const key = await createApiKey(a);
    const auth = credentials({ key: key.key });
    const paths = await gameWithTask(a, auth);
    const award = (instance: TestApp) => send(instance, 'POST', paths.points, auth, { externalUserId: 'u1', isSimulated: true });
    const bApp = asTestApp(b);

    // Shared: one counter for both instances.
    const shared = [await award(a), await award(bApp), await award(a)];
    expect(shared.map((answer) => answer.headers.get('x-ratelimit-remaining'))).toEqual(['5', '4', '3']);

    const redisService = a.app.get(RedisService);
    const metrics = a.app.get(RateLimitMetrics);
    const outagesBefore = redisService.outages;
    await redis.kill();

    // Requests keep being served, quickly; each instance now counts alone, in memory, from zero.
    const duringA: Array<{ status: number; remaining: string | null; ms: number }> = [];
    for (let i = 0; i < LIMIT + 1; i++) {
      const answer = await award(a);
      duringA.push({ status: answer.status, remaining: answer.headers.get('x-ratelimit-remaining'), ms: answer.ms });
    }
    expect(duringA.map((answer) => answer.status)).toEqual([...Array(LIMIT).fill(200), 429]);
    expect(duringA.slice(0, LIMIT).map((answer) => answer.remaining)).toEqual(['5', '4', '3', '2', '1', '0']);
    for (const answer of duringA) expect(answer.ms).toBeLessThan(1000);
    const duringB = await award(bApp);
    expect(duringB.status).toBe(200);
    expect(duringB.headers.get('x-ratelimit-remaining')).toBe('5');
    expect(duringB.ms).toBeLessThan(1000);
    expect429(await award(a), DETAIL.apiKey);

    // Logged (once per outage) and counted.
    expect(redisService.outages).toBe(outagesBefore + 1);
    expect(metrics.redisFallbacks).toBeGreaterThanOrEqual(LIMIT + 2);
    await until(() => a.logs.text.includes('Redis is unreachable'), 'the outage in A’s log');
    await until(() => b.output().includes('Redis is unreachable'), 'the outage in B’s log');

    // Other routes are unaffected.
    expect((await send(a, 'GET', '/api/v1/auth/me', auth)).status).toBe(200);

    // Redis returns on the same port (empty: it keeps nothing on disk). Both reconnect and count together again.
    await redis.restart();
    await until(() => redisService.ready && a.logs.text.includes('Redis is reachable again'), 'A to reconnect', 15_000);
    await until(() => b.output().includes('Redis is reachable again'), 'B to reconnect', 15_000);
    const after = [await award(bApp), await award(a), await award(bApp)];
    expect(after.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(after.map((answer) => answer.headers.get('x-ratelimit-remaining'))).toEqual(['5', '4', '3']);
  });

  it('while Redis is down, a revocation reaches the other instance only when its key cache expires (API_KEY_CACHE_TTL_SECONDS)', async () => {
    const key = await createApiKey(a);
    const auth = credentials({ key: key.key });
    await redis.kill();
    try {
      expect((await send(asTestApp(b), 'GET', '/api/v1/auth/me', auth)).status).toBe(200); // cached on B for 2 s
      const revoked = await send(a, 'DELETE', `/api/v1/apikey/${key.prefix}`, credentials({ token: await adminToken(a) }));
      expect(revoked.status).toBe(200);
      // A refuses at once (its own cache was dropped); B still has the stale entry.
      expect((await send(a, 'GET', '/api/v1/auth/me', auth)).status).toBe(403);
      expect((await send(asTestApp(b), 'GET', '/api/v1/auth/me', auth)).status).toBe(200);
      await sleep(2100);
      const later = await send(asTestApp(b), 'GET', '/api/v1/auth/me', auth);
      expect(later.status).toBe(403);
      expect(later.body.detail).toBe('API key is inactive. Please contact an admin.');
    } finally {
      await redis.restart();
    }
  });
});
