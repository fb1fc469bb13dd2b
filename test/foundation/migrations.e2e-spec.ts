import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

// Several instances booting at once against an empty database migrate it exactly once.
describe('migrations at boot', () => {
  const database = `questline_empty_${process.pid}`;
  const admin = new pg.Client({ connectionString: `${inject('pgAdminUrl')}/postgres` });
  const apps: TestApp[] = [];

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await admin.end();
  });

  it('apply every migration once when two instances start together on an empty database', async () => {
    await admin.connect();
    await admin.query(`CREATE DATABASE "${database}"`);
    const url = `${inject('pgAdminUrl')}/${database}`;
    apps.push(...(await Promise.all([startTestApp({ DATABASE_URL: url }), startTestApp({ DATABASE_URL: url })])));
    for (const app of apps) expect((await app.request('/health/ready')).status).toBe(200);

    const files = readdirSync(join(import.meta.dirname, '../../migrations')).filter((file) => /^\d+-.+\.ts$/.test(file));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ name: string }>('SELECT name FROM migrations ORDER BY id');
    await client.end();
    expect(rows).toHaveLength(files.length);
    expect(new Set(rows.map((row) => row.name)).size).toBe(files.length);
  });
});
