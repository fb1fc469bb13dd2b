import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, inject } from 'vitest';

// Runs in the worker before each test file: the file gets its own database, cloned from the migrated template.
const database = `questline_test_${randomBytes(6).toString('hex')}`;
const admin = new pg.Client({ connectionString: `${inject('pgAdminUrl')}/postgres` });
await admin.connect();
await admin.query(`CREATE DATABASE "${database}" TEMPLATE "${inject('pgTemplate')}" STRATEGY FILE_COPY`);
process.env.DATABASE_URL = `${inject('pgAdminUrl')}/${database}`;

afterAll(async () => {
  await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  await admin.end();
});
