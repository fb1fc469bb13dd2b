import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { ApiKeyCache } from '../../src/api-keys/api-key-cache.js';
import { generateApiKey } from '../../src/api-keys/api-key-format.js';
import { ApiKeysService } from '../../src/api-keys/api-keys.service.js';
import { json, startTestApp, type TestApp } from '../support/app.js';
import { adminToken, apiKey, bearer, createApiKey, jsonBody, passwordGrant, userToken } from '../support/auth.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Against the embedded dev identity provider, with real tokens. The key cache TTL is long on purpose: revocation
// and rotation must take effect at once anyway.
describe('API keys', () => {
  let t: TestApp;
  let admin: string;
  const me = (headers: Record<string, string>) => t.request('/api/v1/auth/me', { headers });

  beforeAll(async () => {
    t = await startTestApp({ API_KEY_CACHE_TTL_SECONDS: '60' });
    admin = await adminToken(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('issues a key through the password grant of a real admin login, shows it once and stores only its hash', async () => {
    const grant = await passwordGrant(t, 'admin', 'admin');
    expect(grant.status).toBe(200);
    const token = (await json(grant)).access_token as string;
    const created = await t.request(
      '/api/v1/apikey/create',
      jsonBody({ client: 'shop', description: 'Shop backend', scopes: ['read', 'write'] }, bearer(token)),
    );
    expect(created.status).toBe(201);
    const body = await json(created);
    expect(body).toMatchObject({ client: 'shop', description: 'Shop backend', scopes: ['read', 'write'], expiresAt: null, createdBy: 'admin', message: 'API Key created successfully' });
    expect(body.apiKey).toMatch(/^qk_live_[0-9A-Za-z]{8}$/);
    expect(body.plaintext.startsWith(`${body.apiKey}.`)).toBe(true);

    const rows = await t.app.get(DataSource).query(`SELECT * FROM api_keys WHERE prefix = $1`, [body.apiKey]);
    expect(JSON.stringify(rows)).not.toContain(body.plaintext.split('.')[1]);
    expect(rows[0].secret_hash).toMatch(/^[0-9a-f]{64}$/);

    const who = await json(await me(apiKey(body.plaintext)));
    expect(who).toEqual({ kind: 'apiKey', apiKey: { prefix: body.apiKey, client: 'shop', scopes: ['read', 'write'], expiresAt: null }, isAdmin: false, roles: [] });
  });

  it('lists keys for admins without secrets or hashes, filtered by active', async () => {
    const issued = await createApiKey(t, { client: 'listed' });
    const response = await t.request('/api/v1/apikey?page_size=100&active=true', { headers: bearer(admin) });
    expect(response.status).toBe(200);
    const page = await json(response);
    const entry = page.items.find((item: { apiKey: string }) => item.apiKey === issued.prefix);
    expect(Object.keys(entry).sort()).toEqual(
      ['active', 'apiKey', 'client', 'createdBy', 'created_at', 'description', 'expiresAt', 'id', 'lastUsedAt', 'scopes'].sort(),
    );
    expect(page.search_options).toMatchObject({ ordering: '-created_at', page: 1, page_size: 100 });
    expect(JSON.stringify(page)).not.toContain(issued.key);
    const bad = await t.request('/api/v1/apikey?ordering=secret_hash', { headers: bearer(admin) });
    expect(bad.status).toBe(422);
  });

  it('revokes at once (despite the cache), idempotently, and 404s an unknown prefix', async () => {
    const issued = await createApiKey(t);
    expect((await me(apiKey(issued.key))).status).toBe(200); // now cached
    const revoked = await t.request(`/api/v1/apikey/${issued.prefix}`, { method: 'DELETE', headers: bearer(admin) });
    expect(revoked.status).toBe(200);
    expect(await json(revoked)).toEqual({ apiKey: issued.prefix, active: false, message: 'API key revoked successfully.' });
    const refused = await me(apiKey(issued.key));
    expect(refused.status).toBe(403);
    expect((await json(refused)).detail).toBe('API key is inactive. Please contact an admin.');
    expect((await t.request(`/api/v1/apikey/${issued.prefix}`, { method: 'DELETE', headers: bearer(admin) })).status).toBe(200);
    const missing = await t.request('/api/v1/apikey/qk_live_zzzzzzzz', { method: 'DELETE', headers: bearer(admin) });
    expect(missing.status).toBe(404);
    expect((await json(missing)).detail).toBe('API key not found: qk_live_zzzzzzzz');
    const rotateRevoked = await t.request(`/api/v1/apikey/${issued.prefix}/rotate`, jsonBody({}, bearer(admin)));
    expect(rotateRevoked.status).toBe(409);
    expect((await json(rotateRevoked)).detail).toBe('API key is inactive. Please contact an admin.');
  });

  it('rotates: same prefix and identity, new secret works, old one fails (after its grace period)', async () => {
    const issued = await createApiKey(t);
    await me(apiKey(issued.key));
    const rotated = await json(await t.request(`/api/v1/apikey/${issued.prefix}/rotate`, jsonBody({}, bearer(admin))));
    expect(rotated).toMatchObject({ apiKey: issued.prefix, previousKeyValidUntil: null });
    expect(rotated.plaintext).not.toBe(issued.key);
    expect((await json(await me(apiKey(rotated.plaintext)))).apiKey.prefix).toBe(issued.prefix);
    expect((await me(apiKey(issued.key))).status).toBe(403);

    const graced = await json(await t.request(`/api/v1/apikey/${issued.prefix}/rotate`, jsonBody({ gracePeriodSeconds: 3 }, bearer(admin))));
    expect(new Date(graced.previousKeyValidUntil).getTime()).toBeGreaterThan(Date.now());
    expect((await me(apiKey(rotated.plaintext))).status).toBe(200); // old secret, inside the grace period
    expect((await me(apiKey(graced.plaintext))).status).toBe(200);
    await sleep(Math.max(0, new Date(graced.previousKeyValidUntil).getTime() - Date.now()) + 100);
    const expired = await me(apiKey(rotated.plaintext));
    expect(expired.status).toBe(403);
    expect((await json(expired)).detail).toBe('API key is invalid or does not exist.');
    const tooLong = await t.request(`/api/v1/apikey/${issued.prefix}/rotate`, jsonBody({ gracePeriodSeconds: 604801 }, bearer(admin)));
    expect(tooLong.status).toBe(422);
  });

  it('refuses an expired key and a past expiry at creation', async () => {
    const expiresAt = Date.now() + 2000;
    const issued = await createApiKey(t, { expiresAt: new Date(expiresAt).toISOString() });
    expect((await me(apiKey(issued.key))).status).toBe(200);
    await sleep(Math.max(0, expiresAt - Date.now()) + 100);
    const response = await me(apiKey(issued.key));
    expect(response.status).toBe(403);
    expect((await json(response)).detail).toBe('API key has expired.');
    const past = await t.request('/api/v1/apikey/create', jsonBody({ client: 'x', description: 'y', expiresAt: '2020-01-01T00:00:00Z' }, bearer(admin)));
    expect(past.status).toBe(422);
    expect((await json(past)).errors).toEqual([{ field: 'expiresAt', message: 'expiresAt must be a time in the future' }]);
  });

  it('refuses a read-only key on any write', async () => {
    const readOnly = await createApiKey(t, { scopes: ['read'] });
    expect((await me(apiKey(readOnly.key))).status).toBe(200);
    const write = await t.request('/api/v1/apikey/create', jsonBody({ client: 'x', description: 'y' }, { ...apiKey(readOnly.key), ...bearer(admin) }));
    expect(write.status).toBe(403);
    expect((await json(write)).detail).toBe('API key does not have the write scope.');
  });

  it('rejects malformed keys, bare prefixes and bad checksums with 403', async () => {
    const issued = await createApiKey(t);
    const flipped = issued.key.slice(0, -1) + (issued.key.endsWith('A') ? 'B' : 'A');
    for (const bad of [issued.prefix, flipped, 'nonsense', `${issued.key}x`, 'qk_live_3fA9kQ2z.Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op563TnRLN']) {
      const response = await me(apiKey(bad));
      expect(response.status).toBe(403);
      expect((await json(response)).detail).toBe('API key is invalid or does not exist.');
    }
  });

  it('keeps admin routes for admin bearers: a key alone is 401, a non-admin bearer 403 with the route’s text', async () => {
    const issued = await createApiKey(t);
    const alice = await userToken(t, 'alice');
    const cases: Array<[string, RequestInit, string]> = [
      ['/api/v1/apikey/create', jsonBody({ client: 'x', description: 'y' }), 'You do not have permission to create an API key'],
      ['/api/v1/apikey', { method: 'GET' }, 'You do not have permission to get all API keys'],
      [`/api/v1/apikey/${issued.prefix}`, { method: 'DELETE' }, 'You do not have permission to revoke an API key'],
      [`/api/v1/apikey/${issued.prefix}/rotate`, jsonBody({}), 'You do not have permission to revoke an API key'],
      ['/api/v1/audit', { method: 'GET' }, 'You do not have permission to read the audit log'],
    ];
    for (const [path, init, forbiddenDetail] of cases) {
      const withKey = await t.request(path, { ...init, headers: { ...(init.headers as object), ...apiKey(issued.key) } });
      expect(withKey.status, path).toBe(401);
      expect((await json(withKey)).detail).toBe('This endpoint requires a bearer token.');
      const none = await t.request(path, init);
      expect(none.status).toBe(401);
      const asAlice = await t.request(path, { ...init, headers: { ...(init.headers as object), ...bearer(alice) } });
      expect(asAlice.status, path).toBe(403);
      expect((await json(asAlice)).detail).toBe(forbiddenDetail);
    }
    expect((await me(apiKey(issued.key))).status).toBe(200); // untouched
  });

  it('describes each kind of caller on /auth/me', async () => {
    const issued = await createApiKey(t, { client: 'me-client', scopes: ['read'] });
    const bob = await userToken(t, 'bob');
    expect((await json(await me(bearer(bob))))).toEqual({ kind: 'oauth', oauthUserId: 'bob', isAdmin: false, roles: expect.any(Array) });
    expect((await json(await me(bearer(admin)))).isAdmin).toBe(true);
    expect((await json(await me({ ...apiKey(issued.key), ...bearer(bob) }))).kind).toBe('both');
  });

  it('audits issue, revoke and rotate without secrets, and serves the audit log to admins with filters', async () => {
    const issued = await createApiKey(t, { client: 'audited' });
    await t.request(`/api/v1/apikey/${issued.prefix}/rotate`, jsonBody({}, bearer(admin)));
    await t.request(`/api/v1/apikey/${issued.prefix}`, { method: 'DELETE', headers: bearer(admin) });
    const response = await t.request('/api/v1/audit?module=api-keys&page_size=100', { headers: bearer(admin) });
    expect(response.status).toBe(200);
    const page = await json(response);
    const mine = page.items.filter((entry: { details: { apiKey?: string } }) => entry.details.apiKey === issued.prefix);
    expect(mine.map((entry: { message: string }) => entry.message).sort()).toEqual(['API key created', 'API key revoked', 'API key rotated']);
    expect(mine.every((entry: { oauthUserId: string }) => entry.oauthUserId === 'admin')).toBe(true);
    expect(JSON.stringify(page)).not.toContain(issued.key.split('.')[1]);
    const levels = await t.request('/api/v1/audit?level=LOUD', { headers: bearer(admin) });
    expect(levels.status).toBe(422);
    const future = await json(await t.request('/api/v1/audit?dateFrom=2999-01-01', { headers: bearer(admin) }));
    expect(future.items).toEqual([]);
  });

  it('reads a key missing from the cache once for all its concurrent requests, and refuses a bad checksum before any lookup', async () => {
    const cache = t.app.get(ApiKeyCache);
    const issued = await createApiKey(t);
    const loadsBefore = cache.loads;
    const answers = await Promise.all(Array.from({ length: 40 }, () => me(apiKey(issued.key))));
    expect(answers.map((answer) => answer.status)).toEqual(Array(40).fill(200));
    expect(cache.loads - loadsBefore).toBe(1);

    // A wrong checksum is refused before any lookup (API.md §1): on an uncached prefix without a database read, on
    // the cached prefix without even a cache lookup (its hit and miss counters do not move).
    const unknown = generateApiKey().key;
    const flip = (key: string) => key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a');
    const lookupsBefore = cache.hits + cache.misses;
    for (const key of [flip(unknown), flip(issued.key)]) {
      const refused = await me(apiKey(key));
      expect(refused.status).toBe(403);
      expect((await json(refused)).detail).toBe('API key is invalid or does not exist.');
    }
    expect(cache.loads - loadsBefore).toBe(1);
    expect(cache.hits + cache.misses).toBe(lookupsBefore);
  });

  it('hands every request with a cached key one frozen identity, and a fresh one after a rotation', async () => {
    const service = t.app.get(ApiKeysService);
    const issued = await createApiKey(t, { client: 'shared-identity', scopes: ['read'] });
    expect((await me(apiKey(issued.key))).status).toBe(200); // loads and caches the row
    const first = service.verifyCached(issued.key)!;
    expect(service.verifyCached(issued.key)).toBe(first);
    expect(first).toEqual({ id: issued.id, prefix: issued.prefix, client: 'shared-identity', scopes: ['read'], expiresAt: null });
    // Shared by concurrent requests, so no request can change what the next one sees.
    expect(Object.isFrozen(first) && Object.isFrozen(first.scopes)).toBe(true);
    expect(() => (first.scopes as string[]).push('write')).toThrow(TypeError);
    expect(() => Object.assign(first, { client: 'forged' })).toThrow(TypeError);
    expect((await json(await me(apiKey(issued.key)))).apiKey).toEqual({ prefix: issued.prefix, client: 'shared-identity', scopes: ['read'], expiresAt: null });

    const rotated = await t.request(`/api/v1/apikey/${issued.prefix}/rotate`, jsonBody({}, bearer(admin)));
    expect(rotated.status).toBe(200);
    const key = (await json(rotated)).plaintext as string;
    expect(service.verifyCached(key)).toBeUndefined(); // the rotation dropped the cached row
    expect((await me(apiKey(key))).status).toBe(200);
    expect(service.verifyCached(key)).not.toBe(first);
  });

  it('neither caches nor shares a row read before an invalidation that landed while it was being read', async () => {
    const cache = t.app.get(ApiKeyCache);
    const keys = t.app.get(ApiKeysService);
    const issued = await createApiKey(t);

    const reading = keys.verifyUncached(issued.key); // the read is in flight…
    await cache.invalidate(issued.prefix); // …when an invalidation lands
    await expect(reading).resolves.toMatchObject({ prefix: issued.prefix });
    expect(cache.get(issued.prefix)).toBeUndefined(); // what it read may be stale: not kept

    const loadsBefore = cache.loads;
    const first = keys.verifyUncached(issued.key);
    const invalidated = cache.invalidate(issued.prefix); // lands while `first` is reading (nothing has yielded yet)
    const second = keys.verifyUncached(issued.key); // arrives after it: must not get `first`'s read
    await Promise.all([first, second, invalidated]);
    expect(cache.loads - loadsBefore).toBe(2);
    expect(cache.get(issued.prefix)).toMatchObject({ prefix: issued.prefix, active: true }); // `second`'s read is kept
  });

  it('records lastUsedAt when a key is used', async () => {
    const issued = await createApiKey(t);
    await me(apiKey(issued.key));
    await sleep(100);
    const [row] = await t.app.get(DataSource).query(`SELECT last_used_at FROM api_keys WHERE id = $1`, [issued.id]);
    expect(row.last_used_at).not.toBeNull();
  });

  it('validates key bodies: unknown fields, bad scopes, sizes', async () => {
    const send = (body: unknown) => t.request('/api/v1/apikey/create', jsonBody(body, bearer(admin)));
    const unknown = await send({ client: 'x', description: 'y', createdBy: 'mallory' });
    expect(unknown.status).toBe(422);
    expect((await json(unknown)).errors).toEqual([{ field: 'createdBy', message: 'property createdBy should not exist' }]);
    expect((await send({ client: 'x', description: 'y', scopes: ['admin'] })).status).toBe(422);
    const noScope = await send({ client: 'x', description: 'y', scopes: [] });
    expect(noScope.status).toBe(422);
    expect((await json(noScope)).errors).toEqual([{ field: 'scopes', message: 'scopes must name at least one scope (read, write)' }]);
    expect((await send({ client: '', description: 'y' })).status).toBe(422);
    expect((await send({ client: 'x'.repeat(101), description: 'y' })).status).toBe(422);
    const malformed = await t.request('/api/v1/apikey/create', { method: 'POST', headers: { ...bearer(admin), 'content-type': 'application/json' }, body: '{"client":' });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toContain('application/problem+json');
    const huge = await t.request('/api/v1/apikey/create', jsonBody({ client: 'x', description: 'y'.repeat(2_000_000) }, bearer(admin)));
    expect(huge.status).toBe(413);
    expect(huge.headers.get('content-type')).toContain('application/problem+json');
  });
});
