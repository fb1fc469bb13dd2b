import { rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, startTestApp, type TestApp } from '../support/app.js';
import { adminToken, bearer } from '../support/auth.js';
import { startCluster, type EmbeddedCluster } from '../support/postgres.js';
import { generateApiKey } from '../../src/api-keys/api-key-format.js';

// This file runs on its own PostgreSQL so that stopping it disturbs no other test.
describe('readiness follows the database', () => {
  const dataDir = `/dev/shm/questline-ready-${randomBytes(4).toString('hex')}/pg`;
  let cluster: EmbeddedCluster;
  let t: TestApp;

  afterAll(async () => {
    await t?.close();
    await cluster?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is 503 while PostgreSQL is down and 200 again when it is back, without a restart', async () => {
    const port = await freePort();
    cluster = await startCluster({ dataDir, port });
    t = await startTestApp({ DATABASE_URL: `${cluster.url}/postgres`, DATABASE_CONNECT_TIMEOUT_MS: '1000', AUTH_FAILURE_LIMIT_PER_IP: '3' });
    expect((await t.request('/health/ready')).status).toBe(200);
    const admin = { headers: bearer(await adminToken(t)) };
    expect((await t.request('/api/v1/apikey', admin)).status).toBe(200);

    await cluster.stop();
    // Requests that need the database fail fast with 503 problem+json — never a hang or a bare 500.
    const requests = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const begun = Date.now();
        const response = await t.request('/api/v1/apikey', admin);
        return { status: response.status, type: response.headers.get('content-type'), body: await response.json(), ms: Date.now() - begun };
      }),
    );
    for (const request of requests) {
      expect(request.status).toBe(503);
      expect(request.type).toContain('application/problem+json');
      expect(request.body.detail).toBe('Service temporarily unavailable: the database did not answer in time.');
      expect(JSON.stringify(request.body)).not.toMatch(/ECONNREFUSED|SELECT|at .*\.js/);
      expect(request.ms).toBeLessThan(5000);
    }
    const started = Date.now();
    const down = await t.request('/health/ready');
    expect(down.status).toBe(503);
    expect(down.headers.get('content-type')).toContain('application/problem+json');
    expect((await down.json()).detail).toBe('Database is unavailable');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await t.request('/health')).status).toBe(200);
    // A key that must be read is 503 too — not a refused credential: nothing counts against the address, and the
    // checks' places are given back (else the address would now be blocked).
    const madeUpKey = () => ({ headers: { 'x-api-key': generateApiKey().key } });
    const keyChecks = [];
    for (let i = 0; i < 5; i++) keyChecks.push((await t.request('/api/v1/auth/me', madeUpKey())).status);
    expect(keyChecks).toEqual([503, 503, 503, 503, 503]);

    cluster = await startCluster({ dataDir, port });
    let status = 0;
    for (let attempt = 0; attempt < 20 && status !== 200; attempt++) {
      status = (await t.request('/health/ready')).status;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(status).toBe(200);
    expect((await t.request('/api/v1/apikey', admin)).status).toBe(200);
    const refusals = [];
    for (let i = 0; i < 4; i++) refusals.push((await t.request('/api/v1/auth/me', madeUpKey())).status);
    expect(refusals).toEqual([403, 403, 403, 429]);
  });
});
