import type { DataSource, QueryRunner } from 'typeorm';
import type { ExportRow } from './formats.js';

const CURSOR = 'questline_export';

/**
 * A server-side cursor on a connection of its own, inside one read-only snapshot: rows arrive in batches, so an
 * export holds one batch in memory whatever its size. `close()` may be called at any time, also while a batch is
 * being fetched (it waits for that batch), and more than once.
 */
export class ExportCursor {
  private closed = false;
  private inFlight: Promise<unknown> = Promise.resolve();

  private constructor(private readonly runner: QueryRunner) {}

  static async open(dataSource: DataSource, sql: string, params: unknown[]): Promise<ExportCursor> {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await runner.query(`DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${sql}`, params);
      return new ExportCursor(runner);
    } catch (error) {
      await runner.query('ROLLBACK').catch(() => undefined);
      await runner.release();
      throw error;
    }
  }

  fetch(size: number): Promise<ExportRow[]> {
    if (this.closed) return Promise.reject(new Error('The export cursor is closed'));
    const batch = this.runner.query(`FETCH ${size} FROM ${CURSOR}`) as Promise<ExportRow[]>;
    this.inFlight = batch.catch(() => undefined);
    return batch;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.inFlight;
    try {
      await this.runner.query('ROLLBACK'); // read-only: nothing to keep; also closes the cursor
    } catch {
      // The connection is gone (the reason the export failed); the pool discards it.
    } finally {
      await this.runner.release();
    }
  }
}
