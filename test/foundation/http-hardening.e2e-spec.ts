import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

describe('HTTP hardening', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ CORS_ORIGINS: 'https://app.example.com', REQUEST_TIMEOUT_MS: '1000' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('sends security headers, a content security policy and no X-Powered-By', async () => {
    for (const path of ['/health', '/docs', '/api/v1/nowhere']) {
      const response = await t.request(path);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(response.headers.get('x-powered-by')).toBeNull();
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("script-src 'self' 'unsafe-inline'");
    }
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
