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
    for (const path of ['/health', '/docs', '/api/v1/nowhere']) {
      const response = await t.request(path);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-powered-by')).toBeNull();
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    }
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
