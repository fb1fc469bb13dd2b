import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimitMetrics } from '../../src/rate-limits/rate-limit-metrics.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { adminToken, apiKey, bearer, createApiKey, userToken, type IssuedKey } from '../support/auth.js';
import { devToken, sample, scrape } from './helpers.js';
import { award, createGame, createTask } from '../core/core-helpers.js';

describe('GET /metrics', () => {
  let t: TestApp;
  let admin: string;
  let good: IssuedKey;
  let revoked: IssuedKey;

  beforeAll(async () => {
    t = await startTestApp();
    admin = await adminToken(t);
    good = await createApiKey(t);
    revoked = await createApiKey(t);
    expect((await t.request(`/api/v1/apikey/${revoked.prefix}`, { method: 'DELETE', headers: bearer(admin) })).status).toBe(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('moves every counter by exactly what a scripted mix of requests did, with route templates as labels', async () => {
    const alice = await userToken(t, 'alice');
    const expired = devToken(t, { exp: Math.floor(Date.now() / 1000) - 3600 });
    const gameId = randomUUID();
    const before = (await scrape(t)).samples;

    const me = (headers: Record<string, string>) => t.request('/api/v1/auth/me', { headers });
    expect((await me(apiKey(good.key))).status).toBe(200); // cache miss
    expect((await me(apiKey(good.key))).status).toBe(200); // cache hit
    expect((await me(apiKey('qk_live_garbage'))).status).toBe(403); // bad format: no cache lookup
    expect((await me(apiKey(revoked.key))).status).toBe(403); // cache miss, inactive
    expect((await me(bearer('not-a-jwt'))).status).toBe(401); // token cache miss, malformed
    expect((await me(bearer(expired))).status).toBe(401); // token cache miss, expired
    expect((await me(bearer(alice))).status).toBe(200); // token cache miss
    expect((await me(bearer(alice))).status).toBe(200); // token cache hit
    expect((await t.request('/api/v1/apikey/qk_live_ZZZZZZZZ', { method: 'DELETE', headers: bearer(admin) })).status).toBe(404); // hit
    expect((await t.request('/api/v1/exports/no-such-dataset', { headers: bearer(admin) })).status).toBe(404); // hit
    expect((await t.request(`/api/v1/games/${gameId}`, { headers: apiKey(good.key) })).status).toBe(404); // key cache hit
    expect((await t.request(`/api/v1/no-such-route/${gameId}`)).status).toBe(404); // no route: no credentials read

    const { text, samples: after } = await scrape(t);
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels);

    const attempts: Record<string, number> = {
      'api_key:ok': 3,
      'api_key:invalid': 1,
      'api_key:inactive': 1,
      'api_key:expired': 0,
      'api_key:forbidden': 0,
      'bearer:ok': 4,
      'bearer:invalid': 1,
      'bearer:expired': 1,
      'bearer:forbidden': 0,
    };
    for (const [key, expected] of Object.entries(attempts)) {
      const [method, outcome] = key.split(':');
      expect(after.has(`auth_attempts_total{method="${method}",outcome="${outcome}"}`), key).toBe(true);
      expect(delta('auth_attempts_total', { method, outcome }), key).toBe(expected);
    }
    expect(delta('token_validation_failures_total', { reason: 'malformed' })).toBe(1);
    expect(delta('token_validation_failures_total', { reason: 'expired' })).toBe(1);
    expect(delta('token_validation_failures_total', { reason: 'signature' })).toBe(0);
    expect(delta('api_key_cache_total', { result: 'hit' })).toBe(2);
    expect(delta('api_key_cache_total', { result: 'miss' })).toBe(2);
    expect(delta('api_key_loads_total')).toBe(2);
    expect(delta('verified_token_cache_total', { result: 'hit' })).toBe(3);
    expect(delta('verified_token_cache_total', { result: 'miss' })).toBe(3);

    const requests = (method: string, route: string, status: string) => delta('http_request_duration_seconds_count', { method, route, status });
    expect(requests('GET', '/api/v1/auth/me', '200')).toBe(4);
    expect(requests('GET', '/api/v1/auth/me', '403')).toBe(2);
    expect(requests('GET', '/api/v1/auth/me', '401')).toBe(2);
    expect(requests('DELETE', '/api/v1/apikey/:prefix', '404')).toBe(1);
    expect(requests('GET', '/api/v1/exports/:dataset', '404')).toBe(1);
    expect(requests('GET', '/api/v1/games/:gameId', '404')).toBe(1);
    expect(requests('GET', 'unmatched', '404')).toBe(1);
    // The histogram's +Inf bucket agrees with its count.
    expect(delta('http_request_duration_seconds_bucket', { method: 'GET', route: '/api/v1/auth/me', status: '200', le: '+Inf' })).toBe(4);

    // Raw paths, ids and credentials never become labels.
    const routes = [...text.matchAll(/route="([^"]*)"/g)].map((match) => match[1]);
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) expect(route === 'unmatched' || route.startsWith('/'), route).toBe(true);
    for (const secret of [good.key, good.prefix, good.id, revoked.key, revoked.prefix, alice, admin, expired, gameId, 'qk_live_', 'no-such', 'alice']) {
      expect(text.includes(secret), `scrape contains ${secret.slice(0, 12)}…`).toBe(false);
    }
  });

  it('exports the default process metrics and every series the dashboard reads, labels pre-filled at 0', async () => {
    const { samples } = await scrape(t);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect([...samples.keys()].some((key) => key.startsWith(`${name}{`)), name).toBe(true);
    }
    for (const outcome of ['ok', 'not_found', 'rate_limited', 'error']) expect(samples.has(`jwks_fetch_total{outcome="${outcome}"}`), outcome).toBe(true);
    for (const limit of ['api-key', 'ip', 'external-user', 'api-key-daily', 'simulation', 'simulation-daily']) {
      expect(samples.has(`rate_limit_rejections_total{limit="${limit}"}`), limit).toBe(true);
    }
    expect(samples.has('points_awarded_total{}')).toBe(true);
    expect(samples.get('redis_outages_total{}')).toBe(0); // no REDIS_URL here
  });

  it('counts awards written (not replays or dry runs) and reads the rate-limit counters at scrape time', async () => {
    const owner = { key: good.key };
    const game = await createGame(t, owner);
    const task = await createTask(t, owner, game.gameId);
    const before = (await scrape(t)).samples;
    expect((await award(t, owner, game.gameId, task.externalTaskId, { externalUserId: 'metrics_user' }, { 'idempotency-key': 'm-1' })).status).toBe(201);
    expect((await award(t, owner, game.gameId, task.externalTaskId, { externalUserId: 'metrics_user' }, { 'idempotency-key': 'm-1' })).status).toBe(200);
    expect((await award(t, owner, game.gameId, task.externalTaskId, { externalUserId: 'metrics_user', isSimulated: true })).status).toBe(200);
    expect((await award(t, owner, game.gameId, task.externalTaskId, { externalUserId: 'metrics_user_2' })).status).toBe(201);
    t.app.get(RateLimitMetrics).rejected('ip');
    const after = (await scrape(t)).samples;
    expect(sample(after, 'points_awarded_total') - sample(before, 'points_awarded_total')).toBe(2);
    expect(sample(after, 'rate_limit_rejections_total', { limit: 'ip' }) - sample(before, 'rate_limit_rejections_total', { limit: 'ip' })).toBe(1);
    expect(sample(after, 'rate_limit_rejections_total', { limit: 'api-key' }) - sample(before, 'rate_limit_rejections_total', { limit: 'api-key' })).toBe(0);
  });

  it('is outside the credentials guard: API credentials sent to it are neither needed nor read', async () => {
    const before = (await scrape(t)).samples;
    expect((await t.request('/metrics', { headers: { ...apiKey('qk_live_garbage'), ...bearer('not-a-jwt') } })).status).toBe(200);
    const after = (await scrape(t)).samples;
    expect(sample(after, 'auth_attempts_total', { method: 'api_key', outcome: 'invalid' })).toBe(sample(before, 'auth_attempts_total', { method: 'api_key', outcome: 'invalid' }));
    expect(sample(after, 'auth_attempts_total', { method: 'bearer', outcome: 'invalid' })).toBe(sample(before, 'auth_attempts_total', { method: 'bearer', outcome: 'invalid' }));
  });

  it('is documented in the OpenAPI spec', async () => {
    const spec = (await (await t.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(spec.paths['/metrics']).toBeDefined();
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  const token = 'metrics-token-for-the-test-0123456789';
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN: token });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 401 problem+json without the token or with a wrong one, 200 with it, and never prints it', async () => {
    for (const headers of [{}, bearer('wrong-token'), bearer(`${token}x`), { authorization: token }]) {
      const response = await t.request('/metrics', { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      expect(((await response.json()) as { detail: string }).detail).toBe('A valid metrics token is required.');
    }
    const { text } = await scrape(t, bearer(token));
    expect(text).toContain('http_request_duration_seconds_count');
    expect(text).not.toContain(token);
    // The 401s were counted by route, not by what was sent.
    expect(text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/metrics",status="401"\} 4/);
  });
});

describe('GET /metrics with METRICS_ENABLED=false', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ METRICS_ENABLED: 'false' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is not served and not documented', async () => {
    expect((await t.request('/metrics')).status).toBe(404);
    const spec = (await (await t.request('/openapi.json')).json()) as { paths: Record<string, unknown> };
    expect(spec.paths['/metrics']).toBeUndefined();
  });
});
