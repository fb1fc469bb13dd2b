import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_CONTENT_SECURITY_POLICY, pageContentSecurityPolicy } from '../../src/common/http-hardening.js';
import { startTestApp, type TestApp } from '../support/app.js';

describe('HTTP hardening', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ CORS_ORIGINS: 'https://app.example.com', REQUEST_TIMEOUT_MS: '1000' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('sends security headers and no X-Powered-By on every answer', async () => {
    const answers = [
      await t.request('/health'),
      await t.request('/docs'),
      await t.request('/api/v1/nowhere'),
      await t.request('/api/v1/games', { headers: { 'x-api-key': 'not-a-key' } }),
      await t.request('/api/v1/games', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' }),
    ];
    expect(answers.map((response) => response.status)).toEqual([200, 200, 404, 403, 401]);
    for (const response of answers) {
      const headers = Object.fromEntries(response.headers);
      // helmet's defaults, less the opener policy (Swagger UI's OAuth2 popup) and HSTS (PUBLIC_URL is http here).
      expect(headers, response.url).toMatchObject({
        'cross-origin-resource-policy': 'same-origin',
        'origin-agent-cluster': '?1',
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
        'x-dns-prefetch-control': 'off',
        'x-download-options': 'noopen',
        'x-frame-options': 'SAMEORIGIN',
        'x-permitted-cross-domain-policies': 'none',
        'x-xss-protection': '0',
      });
      expect(headers['content-security-policy'], response.url).toContain("frame-ancestors 'none'");
      expect(headers['x-correlation-id'], response.url).toMatch(/^[0-9a-f-]{36}$/);
      for (const absent of ['x-powered-by', 'cross-origin-opener-policy', 'strict-transport-security']) expect(headers[absent], `${response.url} ${absent}`).toBeUndefined();
    }
  });

  it("sends HSTS when the public URL is https, and the correlation id on the dev identity provider's answers too", async () => {
    const https = await startTestApp({ PUBLIC_URL: 'https://questline.example.com' });
    try {
      const response = await https.request('/health');
      expect(response.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    } finally {
      await https.close();
    }
    // The dev identity provider answers from a hijacked reply, with headers of its own.
    const discovery = await t.request(`${new URL(t.config.oidcIssuer!).pathname}/.well-known/openid-configuration`, {
      headers: { 'X-Correlation-ID': 'idp-trace-1' },
    });
    expect(discovery.status).toBe(200);
    expect(discovery.headers.get('x-correlation-id')).toBe('idp-trace-1');
  });

  it("gives Swagger UI's pages the policy they need, and every other answer one that allows nothing", async () => {
    const page = pageContentSecurityPolicy(t.config);
    expect(page).toBe(
      "default-src 'self';script-src 'self';style-src 'self' 'unsafe-inline';img-src 'self' data:;font-src 'self' data:;" +
        `connect-src 'self' ${new URL(t.config.oidcIssuer!).origin};form-action 'self' ${new URL(t.config.oidcIssuer!).origin};` +
        "frame-ancestors 'none';object-src 'none';base-uri 'self'",
    );
    for (const path of ['/docs', '/docs/', '/docs/swagger-ui-init.js', '/docs/oauth2-redirect.html', '/docs?x=1']) {
      const response = await t.request(path);
      expect(response.status, path).toBeLessThan(400);
      expect(response.headers.get('content-security-policy'), path).toBe(page);
    }
    const game = await t.request('/api/v1/games', { headers: { 'x-api-key': 'not-a-key' } });
    for (const response of [await t.request('/health'), await t.request('/api/v1/nowhere'), await t.request('/docsx'), await t.request('/api/v1/nowhere?next=/docs'), game]) {
      expect(response.headers.get('content-security-policy'), response.url).toBe(API_CONTENT_SECURITY_POLICY);
    }
    expect(API_CONTENT_SECURITY_POLICY).toBe("default-src 'none';frame-ancestors 'none'");
  });

  it('allows only the configured CORS origins', async () => {
    const preflight = await t.request('/api/v1/auth/me', {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-api-key' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('X-API-Key');
    const allowed = await t.request('/health', { headers: { origin: 'https://app.example.com' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    // Every header a client reads is exposed to browser code: the correlation id, replays, limits, the auth
    // challenge, the task points details' total, and an export's id and file name.
    for (const header of ['X-Correlation-ID', 'Idempotent-Replayed', 'Retry-After', 'X-RateLimit-Remaining', 'WWW-Authenticate', 'X-Total-Count', 'X-Export-Id', 'Content-Disposition']) {
      expect(allowed.headers.get('access-control-expose-headers')).toContain(header);
    }
    const foreign = await t.request('/health', { headers: { origin: 'https://evil.example.com' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('cuts off a client that sends its request too slowly', async () => {
    const socket = connect(Number(new URL(t.baseUrl).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n'); // never finishes its headers
    const started = Date.now();
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
