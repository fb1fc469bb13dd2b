import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiKeyCache } from '../../src/api-keys/api-key-cache.js';
import { generateApiKey } from '../../src/api-keys/api-key-format.js';
import { FixedWindowThrottlerStorage } from '../../src/rate-limits/fixed-window.storage.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { adminToken, createApiKey, userToken } from '../support/auth.js';
import { TestIssuer } from '../support/test-issuer.js';
import { credentials, expect429, onlyLimits, send } from './fixtures.js';

// The per-address limit on refused credentials (AUTH_FAILURE_LIMIT_PER_IP), through real sockets. The app's
// counter clock is moved by hand, so a window ends when the test says so.

const LIMIT = 5;
const WINDOW_S = 60;
const DETAIL = 'Too many failed authentication attempts from this IP.';

describe('refused credentials per client address', () => {
  let t: TestApp;
  let storage: FixedWindowThrottlerStorage;
  let now: number;
  let window = 0;
  // Each test runs from its own client address (a trusted proxy forwards it), so they don't share counters.
  let client: Record<string, string>;
  const me = (headers: Record<string, string>) => send(t, 'GET', '/api/v1/auth/me', { ...client, ...headers });
  const madeUpKey = () => credentials({ key: generateApiKey().key });

  async function exhaust(): Promise<void> {
    for (let i = 0; i < LIMIT; i++) expect((await me(madeUpKey())).status).toBe(403);
  }

  beforeAll(async () => {
    t = await startTestApp(onlyLimits({ AUTH_FAILURE_LIMIT_PER_IP: LIMIT, RATE_LIMIT_WINDOW_SECONDS: WINDOW_S }, { TRUSTED_PROXY_IPS: '127.0.0.1' }));
    storage = t.app.get(FixedWindowThrottlerStorage);
    // Start at the beginning of a window, so a test's requests all fall in one.
    now = Math.ceil(Date.now() / (WINDOW_S * 1000)) * WINDOW_S * 1000 + 1000;
    storage.now = () => now;
  });
  afterAll(async () => t?.close());
  beforeEach(() => {
    window++;
    client = { 'x-forwarded-for': `198.51.100.${window}` };
  });

  it('answers the first `limit` made-up keys with their 403, then 429 without reading the database', async () => {
    const cache = t.app.get(ApiKeyCache);
    const loadsBefore = cache.loads;
    await exhaust();
    expect(cache.loads - loadsBefore).toBe(LIMIT); // each made-up prefix cost one read of api_keys
    const refused = await me(madeUpKey());
    expect429(refused, DETAIL);
    expect(Number(refused.headers.get('retry-after'))).toBe(WINDOW_S - 1);
    expect(cache.loads - loadsBefore).toBe(LIMIT); // …and the refused one none
    // Cheap refusals (bad checksum, an empty key, a malformed Authorization) are 429 too: nothing is checked.
    expect429(await me({ 'x-api-key': 'qk_live_aaaaaaaa.not-a-key' }), DETAIL);
    expect429(await me({ authorization: 'Basic abc' }), DETAIL);
    // A request without credentials is not a credential check: a public route and a 401 answer as before.
    expect((await send(t, 'GET', '/api/v1/strategies', client)).status).toBe(200);
    expect((await me({})).status).toBe(401);
  });

  it('still accepts credentials this instance has already verified (cached key, cached token) from that address', async () => {
    const key = credentials({ key: (await createApiKey(t)).key });
    const token = await userToken(t, 'alice');
    expect((await me(key)).status).toBe(200);
    expect((await me(credentials({ token }))).status).toBe(200);
    await exhaust();
    const second = await me(credentials({ key: (await createApiKey(t)).key }));
    expect429(second, DETAIL); // a valid key not yet cached here is a check the address may not ask for now
    expect429(await me(credentials({ token: await userToken(t, 'alice') })), DETAIL); // likewise a new token
    expect((await me(key)).status).toBe(200);
    expect((await me(credentials({ token }))).status).toBe(200);
    expect((await me(credentials({ key: key['x-api-key'], token }))).status).toBe(200);
    // A cached key does not carry a token that would need checking.
    expect429(await me(credentials({ key: key['x-api-key'], token: await userToken(t, 'carol') })), DETAIL);
    // A key verified here by a database read stays exempt for an hour once it drops out of the key cache (after
    // API_KEY_CACHE_TTL_SECONDS): an integrator sharing the address keeps working.
    const loadsBefore = t.app.get(ApiKeyCache).loads;
    await t.app.get(ApiKeyCache).invalidate(key['x-api-key'].split('.')[0]);
    expect((await me(key)).status).toBe(200);
    expect(t.app.get(ApiKeyCache).loads - loadsBefore).toBe(1);
    now += 3_600_000 + 1; // an hour later, and a new window: the address is open again, the key no longer exempt
    await exhaust();
    await t.app.get(ApiKeyCache).invalidate(key['x-api-key'].split('.')[0]);
    expect429(await me(key), DETAIL);
    // Another address behind the same proxy is not affected.
    const elsewhere = { 'x-forwarded-for': '203.0.113.77' };
    expect((await send(t, 'GET', '/api/v1/auth/me', { ...elsewhere, ...credentials({ key: (await createApiKey(t)).key }) })).status).toBe(200);
  });

  it('counts refused tokens (forged signature, unknown kid) like refused keys', async () => {
    const [header, payload] = (await userToken(t, 'bob')).split('.');
    const forged = `${header}.${payload}.${Buffer.from('not the signature').toString('base64url')}`;
    const unknownKid = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'made-up', typ: 'JWT' })).toString('base64url')}.${payload}.c2ln`;
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT; i++) statuses.push((await me(credentials({ token: i % 2 === 0 ? forged : unknownKid }))).status);
    expect(statuses).toEqual(Array(LIMIT).fill(401));
    expect429(await me(credentials({ token: forged })), DETAIL);
    expect429(await me(madeUpKey()), DETAIL);
  });

  it('counts a revoked key, and lifts the block when the window ends', async () => {
    const issued = await createApiKey(t);
    const revoke = await send(t, 'DELETE', `/api/v1/apikey/${issued.prefix}`, credentials({ token: await adminToken(t) }));
    expect(revoke.status).toBe(200);
    const revoked = credentials({ key: issued.key });
    for (let i = 0; i < LIMIT; i++) expect((await me(revoked)).status).toBe(403);
    expect429(await me(revoked), DETAIL);
    now += WINDOW_S * 1000; // the next window
    expect((await me(revoked)).status).toBe(403);
    expect((await me(credentials({ key: (await createApiKey(t)).key }))).status).toBe(200);
  });

  it('lets no more checks start than the limit when made-up keys arrive all at once', async () => {
    const cache = t.app.get(ApiKeyCache);
    const loadsBefore = cache.loads;
    const answers = await Promise.all(Array.from({ length: 3 * LIMIT }, () => me(madeUpKey())));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([...Array(LIMIT).fill(403), ...Array(2 * LIMIT).fill(429)]);
    expect(cache.loads - loadsBefore).toBe(LIMIT);
    for (const answer of answers) if (answer.status === 429) expect429(answer, DETAIL);
  });

  it('counts IPv6 clients per /64', async () => {
    const from = (address: string) => send(t, 'GET', '/api/v1/auth/me', { 'x-forwarded-for': address, ...madeUpKey() });
    for (let i = 0; i < LIMIT; i++) expect((await from(`2001:db8:${window}:7::${i + 1}`)).status).toBe(403);
    expect429(await from(`2001:db8:${window}:7:ffff:ffff:ffff:ffff`), DETAIL);
    expect((await from(`2001:db8:${window}:8::1`)).status).toBe(403);
  });

  it('shows its rejections in /metrics, and logs the address reaching the limit once, without the credential', async () => {
    const rejections = async () => {
      const metrics = await t.request('/metrics');
      expect(metrics.status).toBe(200);
      return Number(/^rate_limit_rejections_total\{limit="auth-failures"\} (\d+)$/m.exec(await metrics.text())?.[1]);
    };
    const before = await rejections();
    const sentKeys: string[] = [];
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      const key = generateApiKey().key;
      sentKeys.push(key);
      statuses.push((await me(credentials({ key }))).status);
    }
    expect(statuses).toEqual([...Array(LIMIT).fill(403), 429, 429]);
    expect((await rejections()) - before).toBe(2);
    const warnings = t.logs.records().filter((record) => record.component === 'auth' && record.client === `ip:${client['x-forwarded-for']}`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, refusals: LIMIT, windowSeconds: WINDOW_S });
    for (const key of sentKeys) expect(t.logs.text).not.toContain(key.split('.')[1]);
  });
});

describe('what is not a refusal', () => {
  const issuer = new TestIssuer();
  let t: TestApp;
  beforeAll(async () => {
    await issuer.start();
    t = await startTestApp({ ...onlyLimits({ AUTH_FAILURE_LIMIT_PER_IP: 3 }), OIDC_ISSUER: issuer.issuer, JWKS_URI: issuer.jwksUri });
  });
  afterAll(async () => {
    await t?.close();
    await issuer.stop();
  });

  it('does not count an unreachable identity provider (503), nor valid credentials', async () => {
    issuer.failWith = 502;
    for (let i = 0; i < 5; i++) {
      const answer = await send(t, 'GET', '/api/v1/auth/me', credentials({ token: issuer.mint({ sub: `s-${i}` }, { kid: `unknown-${i}` }) }));
      expect(answer.status).toBe(503);
    }
    issuer.failWith = null;
    for (let i = 0; i < 5; i++) expect((await send(t, 'GET', '/api/v1/auth/me', credentials({ token: issuer.mint({ sub: `ok-${i}` }) }))).status).toBe(200);
    // The address has no refusal yet: three are allowed, then 429.
    for (let i = 0; i < 3; i++) expect((await send(t, 'GET', '/api/v1/auth/me', credentials({ key: generateApiKey().key }))).status).toBe(403);
    expect429(await send(t, 'GET', '/api/v1/auth/me', credentials({ key: generateApiKey().key })), DETAIL);
  });
});

describe('AUTH_FAILURE_LIMIT_PER_IP=0 and RATE_LIMITS_ENABLED=false', () => {
  for (const env of [
    onlyLimits({ AUTH_FAILURE_LIMIT_PER_IP: 0 }),
    { ...onlyLimits({ AUTH_FAILURE_LIMIT_PER_IP: 2 }), RATE_LIMITS_ENABLED: 'false' },
  ]) {
    it(`never refuses an address for its failures (${env.RATE_LIMITS_ENABLED === 'false' ? 'limits off' : 'limit 0'})`, async () => {
      const t = await startTestApp(env);
      try {
        const statuses = new Set<number>();
        for (let i = 0; i < 12; i++) statuses.add((await send(t, 'GET', '/api/v1/auth/me', credentials({ key: generateApiKey().key }))).status);
        expect([...statuses]).toEqual([403]);
        const openapi = await (await t.request('/openapi.json')).json();
        expect(openapi.info.description).not.toContain(DETAIL);
      } finally {
        await t.close();
      }
    });
  }

  it('describes the limit in the OpenAPI document when it is on', async () => {
    const t = await startTestApp(onlyLimits({ AUTH_FAILURE_LIMIT_PER_IP: 7, RATE_LIMIT_WINDOW_SECONDS: 30 }));
    try {
      const openapi = await (await t.request('/openapi.json')).json();
      expect(openapi.info.description).toContain(`After 7 refused credentials from one client address in a 30 s window`);
      expect(openapi.info.description).toContain(DETAIL);
    } finally {
      await t.close();
    }
  });
});
