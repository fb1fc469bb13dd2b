import type { TestProject } from 'vitest/node';
import { register } from 'tsx/esm/api';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source.js';
import { startCluster, type EmbeddedCluster } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplate: string;
  }
}

/**
 * Once per run: a PostgreSQL server (TEST_DATABASE_URL, else an embedded cluster in a child process) with one
 * migrated template database that every test file clones.
 */
export default async function setup(project: TestProject) {
  const unregister = register(); // TypeORM import()s the .ts migrations here too
  let cluster: EmbeddedCluster | undefined;
  let adminUrl: string;
  if (process.env.TEST_DATABASE_URL) {
    const url = new URL(process.env.TEST_DATABASE_URL);
    url.pathname = '';
    adminUrl = url.toString().replace(/\/$/, '');
  } else {
    cluster = await startCluster();
    adminUrl = cluster.url;
  }
  const template = `questline_template_${process.pid}`;
  const admin = new pg.Client({ connectionString: `${adminUrl}/postgres` });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${template}"`);
  const dataSource = new DataSource({ ...dataSourceOptions(`${adminUrl}/${template}`), migrationsRun: false });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  await dataSource.destroy(); // no connection may stay on the template while it is cloned

  project.provide('pgAdminUrl', adminUrl);
  project.provide('pgTemplate', template);

  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS "${template}" WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await cluster?.stop();
    await unregister();
  };
}
