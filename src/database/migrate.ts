import { DataSource, MigrationExecutor } from 'typeorm';

/** Any fixed 64-bit number; every instance of the API takes the same lock. */
const MIGRATION_LOCK_ID = 7_316_417_043_001;

/**
 * Runs pending migrations while holding a PostgreSQL advisory lock, so that several instances starting at once
 * against an empty database migrate it exactly once (the others wait, then find nothing pending). The migrations run
 * on the connection that holds the lock, so starting needs one pooled connection, not two (`DATABASE_POOL_SIZE=1`).
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'each';
    await executor.executePendingMigrations();
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    await runner.release();
  }
}
