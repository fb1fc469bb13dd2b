import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { createApiKey, userToken } from '../support/auth.js';
import { RateLimitMetrics } from '../../src/rate-limits/rate-limit-metrics.js';
import { credentials, DETAIL, expect429, gameWithTask, nextWindow, onlyLimits, send, windowWithRoom } from './fixtures.js';

// One instance, in-memory counters (no REDIS_URL). Each block boots an app with only the limits it is about.

const secondsToUtcMidnight = () => (86_400_000 - (Date.now() % 86_400_000)) / 1000;

describe('per API key limit (2 s windows)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(onlyLimits({ RATE_LIMIT_PER_API_KEY: 3, RATE_LIMIT_WINDOW_SECONDS: 2 }));
  });
  afterAll(async () => t?.close());

  it('lets `limit` requests through per window across points and action, answers the next with 429 + Retry-After, and resets', async () => {
    const key = await createApiKey(t);
    const other = await createApiKey(t);
    const auth = credentials({ key: key.key });
    const paths = await gameWithTask(t, auth);
    const otherPaths = await gameWithTask(t, credentials({ key: other.key }));

    await windowWithRoom(2, 1500);
    const first = await send(t, 'POST', paths.points, auth, { externalUserId: 'u1' });
    expect(first.status).toBe(201);
    expect([first.headers.get('x-ratelimit-limit'), first.headers.get('x-ratelimit-remaining')]).toEqual(['3', '2']);
    expect(Number(first.headers.get('x-ratelimit-reset'))).toBeGreaterThanOrEqual(1);
    expect(Number(first.headers.get('x-ratelimit-reset'))).toBeLessThanOrEqual(2);
    const second = await send(t, 'POST', paths.action, auth, { typeAction: 'click', externalUserId: 'u2' });
    expect(second.status).toBe(201);
    expect(second.headers.get('x-ratelimit-remaining')).toBe('1');
    const third = await send(t, 'POST', paths.points, auth, { externalUserId: 'u3' });
    expect(third.status).toBe(201);
    expect(third.headers.get('x-ratelimit-remaining')).toBe('0');

    const refused = await send(t, 'POST', paths.action, auth, { typeAction: 'click', externalUserId: 'u4' });
    expect429(refused, DETAIL.apiKey);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(2);
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    expect((await send(t, 'POST', paths.points, auth, { externalUserId: 'u5' })).status).toBe(429);
    // Another key has its own counter.
    expect((await send(t, 'POST', otherPaths.points, credentials({ key: other.key }), { externalUserId: 'u1' })).status).toBe(201);

    await nextWindow(2);
    const afterReset = await send(t, 'POST', paths.points, auth, { externalUserId: 'u6' });
    expect(afterReset.status).toBe(201);
    expect(afterReset.headers.get('x-ratelimit-remaining')).toBe('2');
    expect(t.app.get(RateLimitMetrics).rejections.get('api-key')).toBe(2);
  });

  it('counts invalid bodies, replays and dry runs (limits run before validation and idempotency)', async () => {
    const key = await createApiKey(t);
    const auth = credentials({ key: key.key });
    const paths = await gameWithTask(t, auth);
    await windowWithRoom(2, 1500);
    const invalid = await send(t, 'POST', paths.points, auth, { unknownField: true });
    expect(invalid.status).toBe(422);
    expect(invalid.headers.get('x-ratelimit-remaining')).toBe('2');
    const awarded = await send(t, 'POST', paths.points, { ...auth, 'idempotency-key': 'evt-1' }, { externalUserId: 'u1' });
    expect(awarded.status).toBe(201);
    const replay = await send(t, 'POST', paths.points, { ...auth, 'idempotency-key': 'evt-1' }, { externalUserId: 'u1' });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect429(await send(t, 'POST', paths.points, { ...auth, 'idempotency-key': 'evt-1' }, { externalUserId: 'u1' }), DETAIL.apiKey);

    await nextWindow(2);
    for (let i = 0; i < 3; i++) expect((await send(t, 'POST', paths.points, auth, { externalUserId: 'u1', isSimulated: true })).status).toBe(200);
    expect429(await send(t, 'POST', paths.points, auth, { externalUserId: 'u1', isSimulated: true }), DETAIL.apiKey);
    // A malformed body of the wrong type is refused by the limit before validation sees it.
    expect429(await send(t, 'POST', paths.points, auth, ['not', 'an', 'object']), DETAIL.apiKey);
  });

  it('counts malformed JSON too: 400 (with the limit headers) while the window has room, then 429', async () => {
    const key = await createApiKey(t);
    const auth = credentials({ key: key.key });
    const paths = await gameWithTask(t, auth);
    const malformed = (path: string) =>
      t.request(path, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{"externalUserId": ' });
    await windowWithRoom(2, 1500);
    for (const [path, remaining] of [[paths.points, '2'], [paths.action, '1'], [paths.points, '0']]) {
      const answer = await malformed(path);
      expect(answer.status).toBe(400);
      expect((await answer.json()).detail).toBe("Body is not valid JSON but content-type is set to 'application/json'");
      expect(answer.headers.get('x-ratelimit-remaining')).toBe(remaining);
    }
    const limited = await malformed(paths.points);
    expect(limited.status).toBe(429);
    expect((await limited.json()).detail).toBe(DETAIL.apiKey);
    expect429(await send(t, 'POST', paths.points, auth, { externalUserId: 'u1' }), DETAIL.apiKey);
  });

  it('applies the per-key limits to the subject of a bearer-only caller', async () => {
    const alice = credentials({ token: await userToken(t, 'alice') });
    const paths = await gameWithTask(t, alice);
    await windowWithRoom(2, 1500);
    for (let i = 0; i < 3; i++) expect((await send(t, 'POST', paths.points, alice, { externalUserId: `u${i}` })).status).toBe(201);
    expect429(await send(t, 'POST', paths.action, alice, { typeAction: 'x', externalUserId: 'u9' }), DETAIL.apiKey);
    // bob is another subject.
    const bob = credentials({ token: await userToken(t, 'bob') });
    const bobPaths = await gameWithTask(t, bob);
    expect((await send(t, 'POST', bobPaths.points, bob, { externalUserId: 'u1' })).status).toBe(201);
  });

  it('leaves other routes alone (no headers, no counting), including /users/{id}/actions', async () => {
    const key = await createApiKey(t);
    const auth = credentials({ key: key.key });
    await windowWithRoom(2, 1500);
    for (let i = 0; i < 5; i++) {
      const answer = await send(t, 'POST', '/api/v1/users/u1/actions', auth, { typeAction: 'login' });
      expect(answer.status).toBe(201);
      expect(answer.headers.get('x-ratelimit-limit')).toBeNull();
    }
  });
});

describe('OpenAPI', () => {
  it('documents the 429 and Retry-After on exactly the limited routes', async () => {
    const t = await startTestApp(onlyLimits({}));
    try {
      const spec = (await send(t, 'GET', '/openapi.json', {})).body;
      const responses = (path: string, method: string) => spec.paths[path][method].responses;
      for (const [path, method] of [
        ['/api/v1/games/{gameId}/tasks/{externalTaskId}/points', 'post'],
        ['/api/v1/games/{gameId}/tasks/{externalTaskId}/action', 'post'],
        ['/api/v1/games/{gameId}/users/{externalUserId}/points/simulated', 'get'],
      ]) {
        expect(responses(path, method)['429'].headers['Retry-After']).toBeDefined();
      }
      expect(responses('/api/v1/users/{externalUserId}/actions', 'post')['429']).toBeUndefined();
      expect(responses('/api/v1/games/{gameId}/tasks/{externalTaskId}/points', 'get')['429']).toBeUndefined();
    } finally {
      await t.close();
    }
  });
});

describe('precedence: the first row of the table that trips answers', () => {
  it('per key over everything else', async () => {
    const t = await startTestApp(
      onlyLimits({ RATE_LIMIT_PER_API_KEY: 2, RATE_LIMIT_PER_IP: 2, RATE_LIMIT_PER_EXTERNAL_USER: 2, DAILY_QUOTA_PER_API_KEY: 2 }),
    );
    try {
      const keyA = await createApiKey(t);
      const keyB = await createApiKey(t);
      const a = credentials({ key: keyA.key });
      const b = credentials({ key: keyB.key });
      const paths = await gameWithTask(t, a);
      const pathsB = await gameWithTask(t, b);
      await windowWithRoom(60, 5000);
      expect((await send(t, 'POST', paths.points, a, { externalUserId: 'u1' })).status).toBe(201);
      expect((await send(t, 'POST', paths.points, a, { externalUserId: 'u1' })).status).toBe(201);
      // All four limits would trip now: the per-key one answers.
      expect429(await send(t, 'POST', paths.points, a, { externalUserId: 'u1' }), DETAIL.apiKey);
      // A refused request is not counted against the later limits, so the IP has used 2 of 2: key B trips it.
      expect429(await send(t, 'POST', pathsB.points, b, { externalUserId: 'u1' }), DETAIL.ip);
      const metrics = t.app.get(RateLimitMetrics);
      expect(Object.fromEntries(metrics.rejections)).toEqual({ 'api-key': 1, ip: 1 });
    } finally {
      await t.close();
    }
  });

  /** Two requests for user u1 (points, then action), then a third that must answer `detail`; then `more(…)`. */
  async function thirdAnswers(limits: Record<string, number>, detail: string, more?: (t: TestApp, key: Record<string, string>, path: string) => Promise<void>) {
    // One app at a time: passport's strategies are process-wide, so two apps in one process would share them.
    const t = await startTestApp(onlyLimits(limits));
    try {
      const key = credentials({ key: (await createApiKey(t)).key });
      const paths = await gameWithTask(t, key);
      await windowWithRoom(60, 5000);
      expect((await send(t, 'POST', paths.points, key, { externalUserId: 'u1' })).status).toBe(201);
      expect((await send(t, 'POST', paths.action, key, { typeAction: 'x', externalUserId: 'u1' })).status).toBe(201);
      expect429(await send(t, 'POST', paths.points, key, { externalUserId: 'u1' }), detail);
      await more?.(t, key, paths.points);
    } finally {
      await t.close();
    }
  }

  it('per IP over per externalUserId and the daily quota', async () => {
    await thirdAnswers({ RATE_LIMIT_PER_IP: 2, RATE_LIMIT_PER_EXTERNAL_USER: 2, DAILY_QUOTA_PER_API_KEY: 2 }, DETAIL.ip);
  });

  it('per externalUserId over the daily quota; the daily quota once the user counter has room', async () => {
    await thirdAnswers({ RATE_LIMIT_PER_EXTERNAL_USER: 2, DAILY_QUOTA_PER_API_KEY: 2 }, DETAIL.externalUser, async (t, key, points) => {
      // u2's counter is fresh, so the key's daily quota (2 used) answers.
      expect429(await send(t, 'POST', points, key, { externalUserId: 'u2' }), DETAIL.daily);
    });
  });
});

describe('headers, zero and RATE_LIMITS_ENABLED=false', () => {
  it('reports the tightest limit (fewest remaining) under the plain names, never the throttler’s per-name headers', async () => {
    const t = await startTestApp(
      onlyLimits({ RATE_LIMIT_PER_API_KEY: 5, RATE_LIMIT_PER_IP: 3, RATE_LIMIT_PER_EXTERNAL_USER: 10, DAILY_QUOTA_PER_API_KEY: 100 }),
    );
    try {
      const key = credentials({ key: (await createApiKey(t)).key });
      const paths = await gameWithTask(t, key);
      await windowWithRoom(60, 5000);
      const answer = await send(t, 'POST', paths.points, key, { externalUserId: 'u1' });
      expect(answer.status).toBe(201);
      expect(answer.headers.get('x-ratelimit-limit')).toBe('3');
      expect(answer.headers.get('x-ratelimit-remaining')).toBe('2');
      const reset = Number(answer.headers.get('x-ratelimit-reset'));
      expect(reset).toBeGreaterThanOrEqual(1);
      expect(reset).toBeLessThanOrEqual(60);
      const names = [...answer.headers.keys()].filter((name) => name.startsWith('x-ratelimit') || name.startsWith('retry-after'));
      expect(names.sort()).toEqual(['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset']);
    } finally {
      await t.close();
    }
  });

  it('a limit set to 0 is off; with every limit at 0 nothing is counted and no header is sent', async () => {
    const t = await startTestApp(onlyLimits({}));
    try {
      const key = credentials({ key: (await createApiKey(t)).key });
      const paths = await gameWithTask(t, key);
      for (let i = 0; i < 5; i++) {
        const answer = await send(t, 'POST', paths.points, key, { externalUserId: 'u1' });
        expect(answer.status).toBe(201);
        expect(answer.headers.get('x-ratelimit-limit')).toBeNull();
      }
    } finally {
      await t.close();
    }
  });

  it('RATE_LIMITS_ENABLED=false turns every limit off (no counting, no headers)', async () => {
    const t = await startTestApp({
      RATE_LIMITS_ENABLED: 'false',
      RATE_LIMIT_PER_API_KEY: '1',
      RATE_LIMIT_PER_IP: '1',
      RATE_LIMIT_PER_EXTERNAL_USER: '1',
      DAILY_QUOTA_PER_API_KEY: '1',
      SIMULATION_RATE_LIMIT: '1',
      SIMULATION_DAILY_QUOTA: '1',
      REDIS_URL: '',
    });
    try {
      const key = credentials({ key: (await createApiKey(t)).key });
      const paths = await gameWithTask(t, key);
      const alice = credentials({ token: await userToken(t, 'alice') });
      const alicePaths = await gameWithTask(t, alice);
      for (let i = 0; i < 4; i++) {
        const points = await send(t, 'POST', paths.points, key, { externalUserId: 'u1' });
        expect(points.status).toBe(201);
        expect(points.headers.get('x-ratelimit-limit')).toBeNull();
        expect((await send(t, 'POST', paths.action, key, { typeAction: 'x', externalUserId: 'u1' })).status).toBe(201);
        const simulated = await send(t, 'GET', alicePaths.simulated('alice'), alice);
        expect(simulated.status).toBe(200);
        expect(simulated.headers.get('x-ratelimit-limit')).toBeNull();
      }
      // With no limit to count it, a malformed body on a limited route is still its 400.
      const malformed = await t.request(paths.points, { method: 'POST', headers: { ...key, 'content-type': 'application/json' }, body: '{' });
      expect(malformed.status).toBe(400);
      expect(malformed.headers.get('x-ratelimit-limit')).toBeNull();
    } finally {
      await t.close();
    }
  });
});

describe('daily quota per key (UTC day)', () => {
  it('trips after the quota with Retry-After = seconds to 00:00 UTC', async () => {
    const t = await startTestApp(onlyLimits({ DAILY_QUOTA_PER_API_KEY: 3 }));
    try {
      const key = credentials({ key: (await createApiKey(t)).key });
      const paths = await gameWithTask(t, key);
      const first = await send(t, 'POST', paths.points, key, { externalUserId: 'u1' });
      expect(first.headers.get('x-ratelimit-limit')).toBe('3');
      expect(Math.abs(Number(first.headers.get('x-ratelimit-reset')) - secondsToUtcMidnight())).toBeLessThan(3);
      await send(t, 'POST', paths.action, key, { typeAction: 'x', externalUserId: 'u2' });
      await send(t, 'POST', paths.points, key, { externalUserId: 'u3' });
      const refused = await send(t, 'POST', paths.points, key, { externalUserId: 'u4' });
      expect429(refused, DETAIL.daily);
      expect(Math.abs(Number(refused.headers.get('retry-after')) - secondsToUtcMidnight())).toBeLessThan(3);
    } finally {
      await t.close();
    }
  });
});

describe('simulation quota per subject', () => {
  it('per window and per UTC day, with GAME’s detail; other subjects are counted apart', async () => {
    const t = await startTestApp(onlyLimits({ SIMULATION_RATE_LIMIT: 2, SIMULATION_DAILY_QUOTA: 3, RATE_LIMIT_WINDOW_SECONDS: 2 }));
    try {
      const alice = credentials({ token: await userToken(t, 'alice') });
      const bob = credentials({ token: await userToken(t, 'bob') });
      const paths = await gameWithTask(t, alice);
      const bobPaths = await gameWithTask(t, bob);
      await windowWithRoom(2, 1500);
      const first = await send(t, 'GET', paths.simulated('alice'), alice);
      expect(first.status).toBe(200);
      expect([first.headers.get('x-ratelimit-limit'), first.headers.get('x-ratelimit-remaining')]).toEqual(['2', '1']);
      expect((await send(t, 'GET', paths.simulated('alice'), alice)).status).toBe(200);
      const perWindow = await send(t, 'GET', paths.simulated('alice'), alice);
      expect429(perWindow, DETAIL.simulation);
      expect(Number(perWindow.headers.get('retry-after'))).toBeLessThanOrEqual(2);
      expect((await send(t, 'GET', bobPaths.simulated('bob'), bob)).status).toBe(200);

      await nextWindow(2);
      expect((await send(t, 'GET', paths.simulated('alice'), alice)).status).toBe(200);
      const daily = await send(t, 'GET', paths.simulated('alice'), alice);
      expect429(daily, DETAIL.simulation);
      expect(Math.abs(Number(daily.headers.get('retry-after')) - secondsToUtcMidnight())).toBeLessThan(3);
      expect(Object.fromEntries(t.app.get(RateLimitMetrics).rejections)).toEqual({ simulation: 1, 'simulation-daily': 1 });
    } finally {
      await t.close();
    }
  });
});
