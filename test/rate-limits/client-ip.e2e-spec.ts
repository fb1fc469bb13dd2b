import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { createApiKey } from '../support/auth.js';
import { credentials, DETAIL, expect429, gameWithTask, onlyLimits, send, windowWithRoom } from './fixtures.js';

// The per-IP and per-externalUserId limits, through real sockets from 127.0.0.1. One app at a time per file
// (passport's strategies are process-wide).

const xff = (value: string) => ({ 'x-forwarded-for': value });

describe('per client IP, no trusted proxy', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(onlyLimits({ RATE_LIMIT_PER_IP: 3 }, { TRUSTED_PROXY_IPS: '' }));
  });
  afterAll(async () => t?.close());

  it('counts every key from one address together, and a forged X-Forwarded-For changes nothing', async () => {
    const a = credentials({ key: (await createApiKey(t)).key });
    const b = credentials({ key: (await createApiKey(t)).key });
    const paths = await gameWithTask(t, a);
    const pathsB = await gameWithTask(t, b);
    await windowWithRoom(60, 5000);
    expect((await send(t, 'POST', paths.points, { ...a, ...xff('198.51.100.1') }, { externalUserId: 'u1' })).status).toBe(201);
    expect((await send(t, 'POST', pathsB.action, { ...b, ...xff('198.51.100.2') }, { typeAction: 'x', externalUserId: 'u2' })).status).toBe(201);
    const third = await send(t, 'POST', pathsB.points, { ...b, ...xff('198.51.100.3') }, { externalUserId: 'u3' });
    expect(third.status).toBe(201);
    expect(third.headers.get('x-ratelimit-remaining')).toBe('0');
    const refused = await send(t, 'POST', paths.points, { ...a, ...xff('198.51.100.4') }, { externalUserId: 'u4' });
    expect429(refused, DETAIL.ip);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });
});

describe('per client IP behind a trusted proxy (TRUSTED_PROXY_IPS=127.0.0.1)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(onlyLimits({ RATE_LIMIT_PER_IP: 2 }, { TRUSTED_PROXY_IPS: '127.0.0.1, 10.0.0.0/8' }));
  });
  afterAll(async () => t?.close());

  it('takes the client from X-Forwarded-For, right to left, skipping trusted hops', async () => {
    const a = credentials({ key: (await createApiKey(t)).key });
    const paths = await gameWithTask(t, a);
    await windowWithRoom(60, 5000);
    const award = (headers: Record<string, string>) => send(t, 'POST', paths.points, { ...a, ...headers }, { externalUserId: 'u1' });

    expect((await award(xff('198.51.100.1'))).status).toBe(201);
    expect((await award(xff('198.51.100.1'))).status).toBe(201);
    expect429(await award(xff('198.51.100.1')), DETAIL.ip);
    // Another client behind the same proxy has its own counter.
    expect((await award(xff('198.51.100.2'))).status).toBe(201);
    // The client can prepend anything: the rightmost untrusted hop is the one our proxy saw.
    expect((await award(xff('6.6.6.6, 198.51.100.2'))).status).toBe(201);
    expect429(await award(xff('7.7.7.7, 198.51.100.2')), DETAIL.ip);
    // Trusted hops (another proxy in 10.0.0.0/8) are skipped.
    expect((await award(xff('198.51.100.3, 10.1.2.3'))).status).toBe(201);
    expect((await award(xff('198.51.100.3'))).status).toBe(201);
    expect429(await award(xff('198.51.100.3, 10.9.9.9')), DETAIL.ip);
    // No header: the trusted peer itself is the client.
    expect((await award({})).status).toBe(201);
    expect((await award({})).status).toBe(201);
    expect429(await award({}), DETAIL.ip);
  });
});

describe('per externalUserId', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(onlyLimits({ RATE_LIMIT_PER_EXTERNAL_USER: 2 }));
  });
  afterAll(async () => t?.close());

  it('counts each end user of a caller apart, across points and action; non-string ids skip this limit', async () => {
    const a = credentials({ key: (await createApiKey(t)).key });
    const b = credentials({ key: (await createApiKey(t)).key });
    const paths = await gameWithTask(t, a);
    const pathsB = await gameWithTask(t, b);
    await windowWithRoom(60, 5000);
    expect((await send(t, 'POST', paths.points, a, { externalUserId: 'user_1' })).status).toBe(201);
    const second = await send(t, 'POST', paths.action, a, { typeAction: 'x', externalUserId: 'user_1' });
    expect(second.status).toBe(201);
    expect([second.headers.get('x-ratelimit-limit'), second.headers.get('x-ratelimit-remaining')]).toEqual(['2', '0']);
    const refused = await send(t, 'POST', paths.points, a, { externalUserId: 'user_1' });
    expect429(refused, DETAIL.externalUser);
    expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    // Another user of the same key, and the same id in another tenant's namespace, are other counters.
    expect((await send(t, 'POST', paths.points, a, { externalUserId: 'user_2' })).status).toBe(201);
    expect((await send(t, 'POST', pathsB.points, b, { externalUserId: 'user_1' })).status).toBe(201);
    // No string id: nothing to count by, validation answers.
    for (let i = 0; i < 3; i++) {
      const invalid = await send(t, 'POST', paths.points, a, { externalUserId: 12345 });
      expect(invalid.status).toBe(422);
      expect(invalid.headers.get('x-ratelimit-limit')).toBeNull();
    }
  });
});
