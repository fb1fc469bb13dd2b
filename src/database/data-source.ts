import 'reflect-metadata';
import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { entities } from './entities.js';

// src/database -> migrations/*.ts ; dist/src/database -> dist/migrations/*.js
const migrationsGlob = join(import.meta.dirname, '../../migrations/*.{ts,js}');

export interface DatabaseTuning {
  poolSize?: number;
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
}

/** The one definition of the database connection, shared by the app, the TypeORM CLI and the tests. */
export function dataSourceOptions(url = process.env.DATABASE_URL, tuning: DatabaseTuning = {}): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities,
    migrations: [migrationsGlob],
    migrationsRun: false, // the app runs them at boot under an advisory lock (migrate.ts); the CLI runs them on demand
    migrationsTransactionMode: 'each',
    synchronize: false,
    installExtensions: false,
    uuidExtension: 'pgcrypto', // gen_random_uuid() is core since PostgreSQL 13
    applicationName: 'questline',
    extra: {
      max: tuning.poolSize ?? 10,
      connectionTimeoutMillis: tuning.connectTimeoutMs ?? 3000,
      statement_timeout: tuning.statementTimeoutMs ?? 10_000,
      query_timeout: (tuning.statementTimeoutMs ?? 10_000) + 1000,
      keepAlive: true,
    },
  };
}

export default new DataSource(dataSourceOptions());
