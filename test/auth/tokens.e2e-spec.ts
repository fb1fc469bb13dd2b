import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataSource } from 'typeorm';
import { json, startTestApp, type TestApp } from '../support/app.js';
import { apiKey, bearer } from '../support/auth.js';
import { TestIssuer } from '../support/test-issuer.js';
import { AuthMetrics } from '../../src/auth/auth-metrics.js';
import { Clock } from '../../src/common/clock.js';

// Bearer tokens from an independent issuer (its own keys and JWKS over HTTP), so every bad token can be crafted.
describe('bearer tokens', () => {
  const issuer = new TestIssuer();
  let t: TestApp;
  const me = (headers: Record<string, string>) => t.request('/api/v1/auth/me', { headers });

  beforeAll(async () => {
    await issuer.start();
    t = await startTestApp({ OIDC_ISSUER: issuer.issuer, JWKS_URI: issuer.jwksUri });
  });
  afterAll(async () => {
    await t?.close();
    await issuer.stop();
  });

  async function expectRejected(token: string, status: number, detail: string) {
    const response = await me(bearer(token));
    const body = await json(response);
    expect({ status: response.status, detail: body.detail }).toEqual({ status, detail });
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    if (status === 401) {
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer realm="questline", resource_metadata="${t.baseUrl}/.well-known/oauth-protected-resource", error="invalid_token", error_description="${detail}"`,
      );
    }
  }

  it('accepts a valid RS256 token and describes its caller', async () => {
    const response = await me(bearer(issuer.mint()));
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ kind: 'oauth', oauthUserId: 'subject-1', isAdmin: false, roles: ['user'] });
  });

  it('refuses a request without credentials with 401 and a WWW-Authenticate challenge', async () => {
    const response = await me({});
    expect(response.status).toBe(401);
    expect((await json(response)).detail).toBe('Invalid authentication credentials');
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer realm="questline", resource_metadata="${t.baseUrl}/.well-known/oauth-protected-resource"`,
    );
  });

  it('honours the 30 s leeway on exp and refuses tokens expired beyond it', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect((await me(bearer(issuer.mint({ exp: now - 10 })))).status).toBe(200);
    await expectRejected(issuer.mint({ exp: now - 60 }), 401, 'Token has expired');
  });

  it('refuses the wrong audience (403), issuer, algorithm and shape (401)', async () => {
    await expectRejected(issuer.mint({ aud: 'someone-else' }), 403, 'Invalid audience');
    await expectRejected(issuer.mint({ iss: 'http://evil.example/realms/test' }), 401, 'Invalid token');
    await expectRejected(issuer.mint({}, { alg: 'HS256' }), 401, 'Invalid token');
    await expectRejected(issuer.mint({}, { alg: 'none' }), 401, 'Invalid token');
    await expectRejected(issuer.mint({ exp: undefined }), 401, 'Invalid token');
    await expectRejected(issuer.mint({ nbf: Math.floor(Date.now() / 1000) + 3600 }), 401, 'Invalid token');
    await expectRejected('not-a-jwt', 401, 'Invalid token');
    await expectRejected('a.b.c', 401, 'Invalid token');
    const basic = await me({ authorization: 'Basic dXNlcjpwYXNz' });
    expect(basic.status).toBe(401);
    expect((await json(basic)).detail).toBe('Invalid token');
  });

  it('refuses a tampered payload as a bad signature', async () => {
    const [header, , signature] = issuer.mint().split('.');
    const forged = Buffer.from(JSON.stringify(issuer.claims({ realm_access: { roles: ['AdministratorGAME'] } }))).toString('base64url');
    await expectRejected(`${header}.${forged}.${signature}`, 401, 'Invalid token signature');
  });

  it('takes the subject from the fallback chain and refuses a token without any', async () => {
    const azpOnly = issuer.mint({ sub: undefined, preferred_username: undefined, azp: 'only-in-azp' });
    expect((await json(await me(bearer(azpOnly)))).oauthUserId).toBe('only-in-azp');
    const emailOnly = issuer.mint({ sub: '', preferred_username: undefined, email: 'e@example.com' });
    expect((await json(await me(bearer(emailOnly)))).oauthUserId).toBe('e@example.com');
    await expectRejected(issuer.mint({ sub: undefined, preferred_username: undefined, azp: undefined }), 401, 'Invalid token');
  });

  it('makes admins from realm roles and the API client’s roles only, after normalising names', async () => {
    const isAdmin = async (claims: Record<string, unknown>) => (await json(await me(bearer(issuer.mint(claims))))).isAdmin;
    expect(await isAdmin({ sub: 'r1', realm_access: { roles: ['AdministratorGAME'] } })).toBe(true);
    expect(await isAdmin({ sub: 'r2', realm_access: { roles: ['administrator-game'] } })).toBe(true);
    expect(await isAdmin({ sub: 'r3', resource_access: { 'questline-api': { roles: ['Administrator GAME'] } } })).toBe(true);
    expect(await isAdmin({ sub: 'r4', resource_access: { 'another-client': { roles: ['AdministratorGAME'] } } })).toBe(false);
    expect(await isAdmin({ sub: 'r5', realm_access: { roles: ['user'] } })).toBe(false);
  });

  it('refetches the JWKS once for an unknown kid: a rotated-in key works, an unpublished one does not', async () => {
    issuer.addKey('test-key-2');
    const before = issuer.jwksRequests;
    expect((await me(bearer(issuer.mint({}, { kid: 'test-key-2' })))).status).toBe(200);
    expect(issuer.jwksRequests).toBe(before + 1);
    expect((await me(bearer(issuer.mint({ sub: 'old-key-user' }, { kid: 'test-key-1' })))).status).toBe(200); // still published
    issuer.addKey('never-published', false);
    const beforeUnknown = issuer.jwksRequests;
    await expectRejected(issuer.mint({}, { kid: 'never-published' }), 401, 'Invalid token');
    expect(issuer.jwksRequests).toBe(beforeUnknown + 1);
    // Parsed keys are cached: known kids cost no further fetch.
    const settled = issuer.jwksRequests;
    for (let index = 0; index < 5; index++) await me(bearer(issuer.mint({ sub: `cached-${index}` }, { kid: 'test-key-2' })));
    expect(issuer.jwksRequests).toBe(settled);
  });

  it('answers 503 when the JWKS cannot be fetched, and recovers when it can', async () => {
    issuer.addKey('test-key-3');
    issuer.failWith = 502;
    const failing = await me(bearer(issuer.mint({}, { kid: 'test-key-3' })));
    expect(failing.status).toBe(503);
    expect(failing.headers.get('retry-after')).toBeTruthy();
    expect((await json(failing)).detail).toBe('Identity provider unavailable');
    issuer.failWith = null;
    await issuer.stop();
    const unreachable = await me(bearer(issuer.mint({ sub: 'x' }, { kid: 'test-key-3' })));
    expect(unreachable.status).toBe(503);
    // Keys fetched before the outage keep working meanwhile.
    expect((await me(bearer(issuer.mint({ sub: 'during-outage' }, { kid: 'test-key-2' })))).status).toBe(200);
    await issuer.start(issuer.port);
    expect((await me(bearer(issuer.mint({ sub: 'after-outage' }, { kid: 'test-key-3' })))).status).toBe(200);
  });

  it('verifies a reused token once (verified-token cache)', async () => {
    const metrics = t.app.get(AuthMetrics);
    const token = issuer.mint({ sub: 'cache-user' });
    const before = { ...metrics.tokenCacheResults };
    for (let index = 0; index < 3; index++) expect((await me(bearer(token))).status).toBe(200);
    expect(metrics.tokenCacheResults.miss - before.miss).toBe(1);
    expect(metrics.tokenCacheResults.hit - before.hit).toBe(2);
  });

  it('bootstraps an OAuth user once, with one audit entry, even under concurrent first requests', async () => {
    const token = issuer.mint({ sub: 'brand-new-subject', preferred_username: 'newbie' });
    const responses = await Promise.all(Array.from({ length: 20 }, () => me(bearer(token))));
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    const dataSource = t.app.get(DataSource);
    const users = await dataSource.query(`SELECT subject, preferred_username FROM oauth_users WHERE subject = 'brand-new-subject'`);
    expect(users).toEqual([{ subject: 'brand-new-subject', preferred_username: 'newbie' }]);
    const entries = await dataSource.query(
      `SELECT message FROM audit_logs WHERE oauth_user_id = 'brand-new-subject' AND message = 'OAuth user bootstrapped'`,
    );
    expect(entries).toHaveLength(1);
  });

  it('checks every credential sent: a bad key beside a good token is 403, a bad token beside a good key is the token’s error', async () => {
    const admin = issuer.mint({ sub: 'the-admin', realm_access: { roles: ['AdministratorGAME'] } });
    const created = await t.request('/api/v1/apikey/create', {
      method: 'POST',
      headers: { ...bearer(admin), 'content-type': 'application/json' },
      body: JSON.stringify({ client: 'both', description: 'both credentials' }),
    });
    expect(created.status).toBe(201);
    const key = (await json(created)).plaintext as string;

    const both = await json(await me({ ...apiKey(key), ...bearer(admin) }));
    expect(both).toMatchObject({ kind: 'both', oauthUserId: 'the-admin', isAdmin: true, apiKey: { client: 'both' } });

    const badKey = await me({ ...apiKey('qk_live_00000000.000000000000000000000000000000000000aa'), ...bearer(admin) });
    expect(badKey.status).toBe(403);
    expect((await json(badKey)).detail).toBe('API key is invalid or does not exist.');

    const badToken = await me({ ...apiKey(key), ...bearer(issuer.mint({ exp: Math.floor(Date.now() / 1000) - 120 })) });
    expect(badToken.status).toBe(401);
    expect((await json(badToken)).detail).toBe('Token has expired');
  });

  it('publishes protected-resource metadata naming the trusted issuer', async () => {
    const response = await t.request('/.well-known/oauth-protected-resource');
    expect(await json(response)).toEqual({
      resource: t.baseUrl,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ['header'],
      resource_documentation: `${t.baseUrl}/docs`,
    });
  });
});

// An attacker needs no credential to send tokens with made-up key ids: each used to cost a JWKS fetch from a budget of
// 10 a minute that the held keys' own refresh shared, and a refresh refused for the budget dropped the key — locking
// every bearer user out. The app's clock is moved to make refreshes fall due.
describe('signing keys under a spray of unknown key ids', () => {
  const issuer = new TestIssuer();
  let t: TestApp;
  let now = Date.now();
  const me = (token: string) => t.request('/api/v1/auth/me', { headers: bearer(token) });
  let minted = 0;
  const fresh = (kid: string) => issuer.mint({ sub: `user-${++minted}` }, { kid }); // never in the verified-token cache

  beforeAll(async () => {
    await issuer.start();
    // The spray is ~70 refused tokens from one address: the per-address limit on refusals (its own test) is off here.
    t = await startTestApp({ OIDC_ISSUER: issuer.issuer, JWKS_URI: issuer.jwksUri, AUTH_FAILURE_LIMIT_PER_IP: '0' });
    t.app.get(Clock).now = () => new Date(now);
  });
  afterAll(async () => {
    await t?.close();
    await issuer.stop();
  });

  it('spends at most its budget on them and never gives up a key it holds, refreshing it outside that budget', async () => {
    expect((await me(fresh('test-key-1'))).status).toBe(200); // the JWKS is read
    const metrics = async () => (await (await t.request('/metrics')).text()).match(/jwks_fetch_total\{outcome="rate_limited"\} (\d+)/)![1];

    // 9.5 minutes later, 40 made-up kids: at most 10 fetches, then refused without one — still 401 `Invalid token`.
    now += 9.5 * 60_000;
    let before = issuer.jwksRequests;
    for (let index = 0; index < 40; index++) {
      const answer = await me(fresh(`made-up-${index}`));
      expect(answer.status).toBe(401);
      expect((await json(answer)).detail).toBe('Invalid token');
    }
    expect(issuer.jwksRequests - before).toBe(10);
    expect(Number(await metrics())).toBe(30);
    // The same made-up kid again costs nothing either way, and the held key answers at once.
    before = issuer.jwksRequests;
    expect((await me(fresh('made-up-0'))).status).toBe(401);
    expect((await me(fresh('test-key-1'))).status).toBe(200);
    expect(issuer.jwksRequests).toBe(before);

    // Each of those fetches read the whole set, so the held key was refreshed by them: not due again for 10 minutes,
    // then refreshed with one fetch that no budget limits, with a spray going on.
    now += 9.9 * 60_000;
    before = issuer.jwksRequests;
    expect((await me(fresh('test-key-1'))).status).toBe(200);
    expect(issuer.jwksRequests).toBe(before);
    now += 0.2 * 60_000;
    for (let index = 0; index < 12; index++) expect((await me(fresh(`sprayed-${index}`))).status).toBe(401);
    expect(issuer.jwksRequests - before).toBe(11); // the due refresh (found no such kid), then the budget's 10
    expect((await me(fresh('test-key-1'))).status).toBe(200);
    now += 10.1 * 60_000; // due again: the spray's last fetch was 10.1 minutes ago
    before = issuer.jwksRequests;
    for (let index = 0; index < 12; index++) expect((await me(fresh(`sprayed-again-${index}`))).status).toBe(401);
    expect((await me(fresh('test-key-1'))).status).toBe(200);
    expect(issuer.jwksRequests - before).toBe(11);

    // A rotation during the spray: a fetch anyone causes brings the new key, and it works.
    issuer.addKey('rotated-in');
    now += 61_000; // the budget refills
    expect((await me(fresh('made-up-again'))).status).toBe(401);
    before = issuer.jwksRequests;
    expect((await me(fresh('rotated-in'))).status).toBe(200);
    expect(issuer.jwksRequests).toBe(before); // brought by the made-up kid's fetch

    // The issuer failing when a refresh falls due: the held keys keep working, and it is not asked again for 30 s.
    now += 11 * 60_000;
    issuer.failWith = 502;
    before = issuer.jwksRequests;
    expect((await me(fresh('test-key-1'))).status).toBe(200);
    expect((await me(fresh('rotated-in'))).status).toBe(200);
    expect(issuer.jwksRequests).toBe(before + 1);
    now += 31_000;
    expect((await me(fresh('test-key-1'))).status).toBe(200);
    expect(issuer.jwksRequests).toBe(before + 2);
    // An unknown kid meanwhile: the issuer can't be asked, 503 (not the token's fault).
    expect((await me(fresh('never-seen'))).status).toBe(503);
    issuer.failWith = null;

    // A key the issuer withdrew stops being trusted at the next refresh.
    issuer.published.delete('rotated-in');
    now += 11 * 60_000;
    expect((await me(fresh('test-key-1'))).status).toBe(200);
    const withdrawn = await me(fresh('rotated-in'));
    expect(withdrawn.status).toBe(401);
    expect((await json(withdrawn)).detail).toBe('Invalid token');
  });
});
