import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

import Fastify, { type FastifyInstance } from 'fastify';
import { createLocalJWKSet, createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  DevIdentityProvider,
  registerDevIdentityProvider,
  type DevIdentityProviderOptions,
} from './dev-identity-provider.js';

const REALM = 'questline';
const ADMIN_ROLE = 'AdministratorGAME';
const API_CLIENT = 'questline-api';
const SWAGGER_CLIENT = 'questline-swagger';

function optionsFor(publicUrl: string): DevIdentityProviderOptions {
  return {
    issuer: `${publicUrl}/realms/${REALM}`,
    publicUrl,
    realm: REALM,
    apiClientId: API_CLIENT,
    swaggerClientId: SWAGGER_CLIENT,
    adminRole: ADMIN_ROLE,
    audience: 'account',
  };
}

interface KeycloakClaims extends JWTPayload {
  preferred_username?: string;
  azp?: string;
  typ?: string;
  scope?: string;
  realm_access?: { roles: string[] };
  resource_access?: Record<string, { roles: string[] }>;
}

function roles(claims: KeycloakClaims): string[] {
  return [...(claims.realm_access?.roles ?? []), ...(claims.resource_access?.[API_CLIENT]?.roles ?? [])];
}

/** A minimal cookie jar: name → value (paths ignored; fine against a single host). */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(header) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

describe('DevIdentityProvider (real HTTP through Fastify)', () => {
  let app: FastifyInstance;
  let idp: DevIdentityProvider;
  let baseUrl: string;
  let issuer: string;
  let tokenUrl: string;
  let remoteJwks: ReturnType<typeof createRemoteJWKSet>;

  beforeAll(async () => {
    app = Fastify();
    app.get('/health', async () => ({ status: 'ok' }));
    // The issuer must carry the port, and Fastify forbids addHook after listen: find a free port with a probe first.
    const probe = Fastify();
    await probe.listen({ port: 0, host: '127.0.0.1' });
    const port = (probe.server.address() as AddressInfo).port;
    await probe.close();

    baseUrl = `http://127.0.0.1:${port}`;
    idp = await DevIdentityProvider.create(optionsFor(baseUrl));
    registerDevIdentityProvider(app, idp);
    await app.listen({ port, host: '127.0.0.1' });

    issuer = idp.issuer;
    tokenUrl = `${issuer}/protocol/openid-connect/token`;
    remoteJwks = createRemoteJWKSet(new URL(`${issuer}/protocol/openid-connect/certs`));
  });

  afterAll(async () => {
    await app?.close();
  });

  async function token(form: Record<string, string>, basic?: [string, string]) {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (basic) headers.authorization = `Basic ${Buffer.from(`${basic[0]}:${basic[1]}`).toString('base64')}`;
    const response = await fetch(tokenUrl, { method: 'POST', headers, body: new URLSearchParams(form) });
    return { status: response.status, body: (await response.json()) as Record<string, string> };
  }

  async function verify(accessToken: string): Promise<KeycloakClaims> {
    const { payload, protectedHeader } = await jwtVerify<KeycloakClaims>(accessToken, remoteJwks, {
      issuer,
      audience: 'account',
      algorithms: ['RS256'],
    });
    expect(protectedHeader.typ).toBe('JWT');
    expect(protectedHeader.kid).toBe('questline-dev-1');
    return payload;
  }

  it('serves the discovery document with Keycloak paths under the issuer', async () => {
    const response = await fetch(`${issuer}/.well-known/openid-configuration`);
    expect(response.status).toBe(200);
    const doc = (await response.json()) as Record<string, unknown>;
    const oidc = `${issuer}/protocol/openid-connect`;
    expect(doc).toMatchObject({
      issuer,
      authorization_endpoint: `${oidc}/auth`,
      token_endpoint: `${oidc}/token`,
      jwks_uri: `${oidc}/certs`,
      userinfo_endpoint: `${oidc}/userinfo`,
      introspection_endpoint: `${oidc}/token/introspect`,
      revocation_endpoint: `${oidc}/revoke`,
      end_session_endpoint: `${oidc}/logout`,
    });
    expect(doc.grant_types_supported).toEqual(
      expect.arrayContaining(['authorization_code', 'client_credentials', 'refresh_token', 'password']),
    );
    expect(doc.code_challenge_methods_supported).toEqual(['S256']);
  });

  it('leaves other routes to Fastify', async () => {
    const response = await fetch(`${baseUrl}/health`);
    expect(await response.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${baseUrl}/realms/other/.well-known/openid-configuration`)).status).toBe(404);
  });

  it('serves the fixed public key at /certs, the same as publicJwks()', async () => {
    const jwks = (await (await fetch(`${issuer}/protocol/openid-connect/certs`)).json()) as {
      keys: Array<Record<string, unknown>>;
    };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]).toMatchObject({ kid: 'questline-dev-1', kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(jwks.keys[0]).not.toHaveProperty('d');
    const local = idp.publicJwks();
    expect(local.keys).toHaveLength(1);
    expect(local.keys[0]).toEqual({ ...jwks.keys[0], alg: 'RS256', use: 'sig' });
    expect(local.keys[0]).not.toHaveProperty('d');
  });

  it('client_credentials for questline-admin yields an admin service-account token', async () => {
    const { status, body } = await token({ grant_type: 'client_credentials' }, ['questline-admin', 'questline-admin-secret']);
    expect(status).toBe(200);
    expect(body.token_type).toBe('Bearer');
    const claims = await verify(body.access_token);
    expect(claims).toMatchObject({
      iss: issuer,
      aud: 'account',
      sub: 'questline-admin',
      azp: 'questline-admin',
      preferred_username: 'service-account-questline-admin',
      typ: 'Bearer',
    });
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(claims.realm_access?.roles).toContain(ADMIN_ROLE);
    expect(claims.resource_access?.[API_CLIENT]?.roles).toContain(ADMIN_ROLE);
    expect(claims.scope).toContain('profile');
  });

  it('client_credentials accepts client_secret_post too', async () => {
    const { status, body } = await token({
      grant_type: 'client_credentials',
      client_id: 'questline-service',
      client_secret: 'questline-service-secret',
    });
    expect(status).toBe(200);
    const claims = await verify(body.access_token);
    expect(claims.sub).toBe('questline-service');
    expect(claims.preferred_username).toBe('service-account-questline-service');
    expect(roles(claims)).not.toContain(ADMIN_ROLE);
  });

  it('rejects a bad client secret with 401 invalid_client', async () => {
    const { status, body } = await token({ grant_type: 'client_credentials' }, ['questline-admin', 'wrong']);
    expect(status).toBe(401);
    expect(body.error).toBe('invalid_client');
  });

  it('password grant via the public swagger client: alice is not admin, admin is', async () => {
    const alice = await token({ grant_type: 'password', client_id: SWAGGER_CLIENT, username: 'alice', password: 'alice' });
    expect(alice.status).toBe(200);
    expect(alice.body.refresh_token).toEqual(expect.any(String));
    const aliceClaims = await verify(alice.body.access_token);
    expect(aliceClaims).toMatchObject({ sub: 'alice', preferred_username: 'alice', azp: SWAGGER_CLIENT, typ: 'Bearer' });
    expect(roles(aliceClaims)).not.toContain(ADMIN_ROLE);
    expect(aliceClaims.realm_access?.roles).toContain('user');

    const admin = await token({
      grant_type: 'password',
      client_id: SWAGGER_CLIENT,
      username: 'admin',
      password: 'admin',
      scope: 'openid',
    });
    expect(admin.status).toBe(200);
    const adminClaims = await verify(admin.body.access_token);
    expect(adminClaims.sub).toBe('admin');
    expect(adminClaims.realm_access?.roles).toContain(ADMIN_ROLE);
    expect(adminClaims.resource_access?.[API_CLIENT]?.roles).toContain(ADMIN_ROLE);
    expect(adminClaims.scope?.split(' ')).toEqual(expect.arrayContaining(['openid', 'profile', 'email']));
  });

  it('password grant works for a confidential client, and refresh works for swagger', async () => {
    const bob = await token(
      { grant_type: 'password', username: 'bob', password: 'bob' },
      ['questline-service', 'questline-service-secret'],
    );
    expect(bob.status).toBe(200);
    expect(bob.body.refresh_token).toBeUndefined();
    expect(await verify(bob.body.access_token)).toMatchObject({ sub: 'bob', azp: 'questline-service' });

    const alice = await token({ grant_type: 'password', client_id: SWAGGER_CLIENT, username: 'alice', password: 'alice' });
    const refreshed = await token({
      grant_type: 'refresh_token',
      client_id: SWAGGER_CLIENT,
      refresh_token: alice.body.refresh_token,
    });
    expect(refreshed.status).toBe(200);
    expect(await verify(refreshed.body.access_token)).toMatchObject({ sub: 'alice', aud: 'account' });
  });

  it('password grant with a wrong password is 400 invalid_grant', async () => {
    const { status, body } = await token({ grant_type: 'password', client_id: SWAGGER_CLIENT, username: 'alice', password: 'nope' });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_grant');
    const unknown = await token({ grant_type: 'password', client_id: SWAGGER_CLIENT, username: 'mallory', password: 'x' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('invalid_grant');
  });

  it('the bearer-only api client has no grants', async () => {
    const { status, body } = await token({ grant_type: 'client_credentials' }, ['questline-api', 'questline-api-secret']);
    expect(status).toBe(400);
    // oidc-provider answers invalid_request (not RFC 6749's unauthorized_client) for a grant the client lacks.
    expect(body).toMatchObject({ error: 'invalid_request', error_description: expect.stringContaining('not allowed') });
  });

  it('answers CORS preflight for Swagger UI', async () => {
    const response = await fetch(tokenUrl, {
      method: 'OPTIONS',
      headers: { origin: 'http://example.test', 'access-control-request-method': 'POST' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://example.test');
  });

  it('authorization code + PKCE through the login page yields an admin token', async () => {
    const jar = new CookieJar();
    const redirectUri = `${baseUrl}/docs/oauth2-redirect.html`;
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const state = randomBytes(8).toString('hex');

    const authUrl = new URL(`${issuer}/protocol/openid-connect/auth`);
    authUrl.search = new URLSearchParams({
      client_id: SWAGGER_CLIENT,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: 'openid profile',
      state,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }).toString();

    // Follow redirects by hand (with cookies) until something that is not a redirect, or the client's redirect_uri.
    async function follow(start: Response): Promise<{ response: Response; url: string }> {
      let response = start;
      let url = start.url;
      while (response.status >= 300 && response.status < 400) {
        const location = new URL(response.headers.get('location')!, url).href;
        if (location.startsWith(redirectUri)) return { response, url: location };
        url = location;
        response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header() } });
        jar.store(response);
      }
      return { response, url };
    }

    const first = await fetch(authUrl, { redirect: 'manual' });
    jar.store(first);
    const loginPage = await follow(first);
    expect(loginPage.response.status).toBe(200);
    expect(loginPage.url).toContain(`/realms/${REALM}/login-actions/authenticate/`);
    const html = await loginPage.response.text();
    expect(html).toContain('name="username"');
    expect(html).toContain('name="password"');
    expect(html).toContain('type="submit"');
    expect(html).not.toContain('<script');
    expect(loginPage.response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const action = new URL(/<form[^>]*action="([^"]+)"/.exec(html)![1].replace(/&amp;/g, '&'), loginPage.url).href;

    const post = (username: string, password: string) =>
      fetch(action, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header() },
        body: new URLSearchParams({ username, password }),
      });

    const wrong = await post('admin', 'wrong<script>');
    expect(wrong.status).toBe(401);
    const wrongHtml = await wrong.text();
    expect(wrongHtml).toContain('Invalid username or password.');
    expect(wrongHtml).toContain('value="admin"');

    const ok = await post('admin', 'admin');
    jar.store(ok);
    expect(ok.status).toBe(303);
    const callback = await follow(ok);
    const callbackUrl = new URL(callback.url);
    expect(callbackUrl.searchParams.get('state')).toBe(state);
    const code = callbackUrl.searchParams.get('code');
    expect(code).toEqual(expect.any(String));

    // Without the verifier the code is refused (PKCE).
    const noVerifier = await token({ grant_type: 'authorization_code', client_id: SWAGGER_CLIENT, code: code!, redirect_uri: redirectUri });
    expect(noVerifier.status).toBe(400);

    // oidc-provider checks PKCE before consuming the code, so the same code still exchanges with the verifier.
    const exchanged = await token({
      grant_type: 'authorization_code',
      client_id: SWAGGER_CLIENT,
      code: code!,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body.refresh_token).toEqual(expect.any(String));
    expect(exchanged.body.id_token).toEqual(expect.any(String));
    const claims = await verify(exchanged.body.access_token);
    expect(claims).toMatchObject({ sub: 'admin', preferred_username: 'admin', azp: SWAGGER_CLIENT, aud: 'account' });
    expect(claims.realm_access?.roles).toContain(ADMIN_ROLE);

    // In-process verification with publicJwks().
    const local = createLocalJWKSet(idp.publicJwks() as Parameters<typeof createLocalJWKSet>[0]);
    const { payload } = await jwtVerify(exchanged.body.access_token, local, { issuer, audience: 'account' });
    expect(payload.sub).toBe('admin');
  });

  it('requires PKCE at the authorization endpoint', async () => {
    const authUrl = new URL(`${issuer}/protocol/openid-connect/auth`);
    authUrl.search = new URLSearchParams({
      client_id: SWAGGER_CLIENT,
      response_type: 'code',
      redirect_uri: `${baseUrl}/docs/oauth2-redirect.html`,
      scope: 'openid',
    }).toString();
    const response = await fetch(authUrl, { redirect: 'manual' });
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
  });

  it('issueAccessToken mints the same claims in-process, verifiable with publicJwks()', async () => {
    const local = createLocalJWKSet(idp.publicJwks() as Parameters<typeof createLocalJWKSet>[0]);
    const adminToken = await idp.issueAccessToken('admin');
    expect(decodeProtectedHeader(adminToken)).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: 'questline-dev-1' });
    const { payload } = await jwtVerify<KeycloakClaims>(adminToken, local, { issuer, audience: 'account' });
    expect(payload).toMatchObject({ sub: 'admin', azp: SWAGGER_CLIENT, preferred_username: 'admin' });
    expect(roles(payload)).toContain(ADMIN_ROLE);

    const carol = await jwtVerify<KeycloakClaims>(await idp.issueAccessToken('carol'), local, { issuer, audience: 'account' });
    expect(carol.payload.sub).toBe('carol');
    expect(roles(carol.payload)).not.toContain(ADMIN_ROLE);
  });
});

describe('DevIdentityProvider with Fastify inject()', () => {
  it('serves discovery and tokens through light-my-request', async () => {
    const app = Fastify();
    const idp = await DevIdentityProvider.create(optionsFor('http://localhost:3999'));
    registerDevIdentityProvider(app, idp);
    await app.ready();
    try {
      const discovery = await app.inject({
        method: 'GET',
        url: '/realms/questline/.well-known/openid-configuration',
        headers: { host: 'localhost:3999' },
      });
      expect(discovery.statusCode).toBe(200);
      expect(discovery.json()).toMatchObject({
        issuer: 'http://localhost:3999/realms/questline',
        token_endpoint: 'http://localhost:3999/realms/questline/protocol/openid-connect/token',
      });

      const tokenResponse = await app.inject({
        method: 'POST',
        url: '/realms/questline/protocol/openid-connect/token',
        headers: { host: 'localhost:3999', 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'grant_type=password&client_id=questline-swagger&username=bob&password=bob',
      });
      expect(tokenResponse.statusCode).toBe(200);
      const local = createLocalJWKSet(idp.publicJwks() as Parameters<typeof createLocalJWKSet>[0]);
      const { payload } = await jwtVerify(tokenResponse.json().access_token as string, local, {
        issuer: idp.issuer,
        audience: 'account',
      });
      expect(payload.sub).toBe('bob');
    } finally {
      await app.close();
    }
  });

  it('keeps state per instance (two providers do not share sessions or refresh tokens)', async () => {
    const a = await DevIdentityProvider.create(optionsFor('http://localhost:4001'));
    const b = await DevIdentityProvider.create(optionsFor('http://localhost:4001'));
    const appA = Fastify();
    const appB = Fastify();
    registerDevIdentityProvider(appA, a);
    registerDevIdentityProvider(appB, b);
    try {
      const headers = { host: 'localhost:4001', 'content-type': 'application/x-www-form-urlencoded' };
      const url = '/realms/questline/protocol/openid-connect/token';
      const issued = await appA.inject({
        method: 'POST',
        url,
        headers,
        payload: 'grant_type=password&client_id=questline-swagger&username=alice&password=alice',
      });
      const refreshToken = issued.json().refresh_token as string;
      const refresh = `grant_type=refresh_token&client_id=questline-swagger&refresh_token=${refreshToken}`;
      expect((await appB.inject({ method: 'POST', url, headers, payload: refresh })).statusCode).toBe(400);
      expect((await appA.inject({ method: 'POST', url, headers, payload: refresh })).statusCode).toBe(200);
    } finally {
      await appA.close();
      await appB.close();
    }
  });
});

describe('DevIdentityProvider.create', () => {
  it('refuses to start with NODE_ENV=production', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await expect(DevIdentityProvider.create(optionsFor('http://localhost:3000'))).rejects.toThrow(/production/);
    } finally {
      process.env.NODE_ENV = previous;
    }
  });
});
