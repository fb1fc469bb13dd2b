import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/api-keys/api-key-format.js';
import { hasRedis } from '../support/requirements.js';
import { asTestApp, isolatedRedisUrl, startInstance, type Instance } from './instances.js';
import { credentials, DETAIL, expect429, gameWithTask, onlyLimits, send, windowWithRoom } from './fixtures.js';

// Two API processes on two ports sharing this file's PostgreSQL and one Redis (REDIS_TEST_URL, keys under a
// prefix of this run) — the deployment of README "Running several instances", minus the load balancer.

const LIMIT = 50;
const FAILURE_LIMIT = 6;
const DETAIL_AUTH = 'Too many failed authentication attempts from this IP.';

describe.skipIf(!(await hasRedis()))('two instances sharing PostgreSQL and Redis', () => {
  let a: Instance;
  let b: Instance;
  let adminA: string;

  beforeAll(async () => {
    const env = onlyLimits(
      { RATE_LIMIT_PER_API_KEY: LIMIT, RATE_LIMIT_WINDOW_SECONDS: 3600, AUTH_FAILURE_LIMIT_PER_IP: FAILURE_LIMIT },
      // The proxy header names the client only in the refused-credentials test; everything else comes from 127.0.0.1.
      { REDIS_URL: isolatedRedisUrl(), API_KEY_CACHE_TTL_SECONDS: '60', DATABASE_POOL_SIZE: '5', TRUSTED_PROXY_IPS: '127.0.0.1' },
    );
    [a, b] = await Promise.all([startInstance(env), startInstance(env)]);
    adminA = await a.token('admin');
  }, 120_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  async function issueKey(): Promise<string> {
    const created = await send(asTestApp(a), 'POST', '/api/v1/apikey/create', credentials({ token: adminA }), { client: 'shared', description: 'two instances' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    return created.body.plaintext as string;
  }

  it('holds the per-key limit across both: requests alternated between them, exactly `limit` succeed in the window', async () => {
    const key = credentials({ key: await issueKey() });
    const paths = await gameWithTask(asTestApp(a), key);
    await windowWithRoom(3600, 15_000);
    const statuses: number[] = [];
    const remaining: Array<string | null> = [];
    for (let i = 0; i < LIMIT + 4; i++) {
      const instance = i % 2 === 0 ? a : b;
      const answer = await send(asTestApp(instance), 'POST', paths.points, key, { externalUserId: `u${i % 7}`, isSimulated: true });
      statuses.push(answer.status);
      remaining.push(answer.headers.get('x-ratelimit-remaining'));
      if (answer.status === 429) expect429(answer, DETAIL.apiKey);
    }
    expect(statuses.filter((status) => status === 200)).toHaveLength(LIMIT);
    expect(statuses.slice(LIMIT)).toEqual([429, 429, 429, 429]);
    // One counter: the remaining count goes down by one per request, whichever instance answers.
    expect(remaining.slice(0, LIMIT)).toEqual(Array.from({ length: LIMIT }, (_, i) => String(LIMIT - 1 - i)));
  });

  it('lets exactly `limit` of 1,000 concurrent requests through, spread over both instances', { timeout: 120_000 }, async () => {
    const key = credentials({ key: await issueKey() });
    const paths = await gameWithTask(asTestApp(a), key);
    // Warm both instances' key caches, so the flood measures the limiter and not 1,000 cold key lookups.
    await send(asTestApp(a), 'GET', '/api/v1/auth/me', key);
    await send(asTestApp(b), 'GET', '/api/v1/auth/me', key);
    await windowWithRoom(3600, 30_000);
    const answers = await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        send(asTestApp(i % 2 === 0 ? a : b), 'POST', paths.action, key, { typeAction: 'flood', externalUserId: `u${i % 20}` }),
      ),
    );
    const byStatus = new Map<number, number>();
    for (const answer of answers) byStatus.set(answer.status, (byStatus.get(answer.status) ?? 0) + 1);
    const redisLog = [a, b].map((instance) => instance.output().split('\n').filter((line) => line.includes('"component":"redis"')).join('\n'));
    expect(Object.fromEntries(byStatus), redisLog.join('\n')).toEqual({ 201: LIMIT, 429: 1000 - LIMIT });
    // No false outage under the burst (a busy event loop is not a Redis timeout).
    expect(redisLog).toEqual(['', '']);
    const actions = await send(asTestApp(b), 'GET', '/api/v1/auth/me', key);
    expect(actions.status).toBe(200);
  });

  it('refuses a key revoked on instance A on instance B at the very next request (key cache TTL 60 s)', async () => {
    const plaintext = await issueKey();
    const prefix = plaintext.split('.')[0];
    const key = credentials({ key: plaintext });
    // B has the key in its cache now.
    expect((await send(asTestApp(b), 'GET', '/api/v1/auth/me', key)).status).toBe(200);
    expect((await send(asTestApp(b), 'GET', '/api/v1/auth/me', key)).status).toBe(200);
    const revoked = await send(asTestApp(a), 'DELETE', `/api/v1/apikey/${prefix}`, credentials({ token: adminA }));
    expect(revoked.status).toBe(200);
    const next = await send(asTestApp(b), 'GET', '/api/v1/auth/me', key);
    expect(next.status).toBe(403);
    expect(next.body.detail).toBe('API key is inactive. Please contact an admin.');
  });

  it('counts refused credentials of one address across both instances, in Redis', async () => {
    const client = { 'x-forwarded-for': '198.51.100.9' };
    const key = credentials({ key: await issueKey() }, client);
    // Both instances hold the valid key before the address is blocked.
    expect((await send(asTestApp(a), 'GET', '/api/v1/auth/me', key)).status).toBe(200);
    expect((await send(asTestApp(b), 'GET', '/api/v1/auth/me', key)).status).toBe(200);
    const madeUp = () => credentials({ key: generateApiKey().key }, client);
    const me = (instance: Instance, headers: Record<string, string>) => send(asTestApp(instance), 'GET', '/api/v1/auth/me', headers);
    await windowWithRoom(3600, 15_000);
    // limit − 1 refusals on A, then one on B: B's count is the shared one (counted in memory, it would be 1).
    for (let i = 0; i < FAILURE_LIMIT - 1; i++) expect((await me(a, madeUp())).status).toBe(403);
    expect((await me(b, madeUp())).status).toBe(403);
    expect429(await me(b, madeUp()), DETAIL_AUTH);
    // A learns of it at its next refusal (one more check), then refuses too.
    expect((await me(a, madeUp())).status).toBe(403);
    expect429(await me(a, madeUp()), DETAIL_AUTH);
    // Keys both instances hold keep working; another address is not affected.
    expect((await me(a, key)).status).toBe(200);
    expect((await me(b, key)).status).toBe(200);
    expect((await me(b, credentials({ key: generateApiKey().key }, { 'x-forwarded-for': '198.51.100.10' }))).status).toBe(403);
  });
});
