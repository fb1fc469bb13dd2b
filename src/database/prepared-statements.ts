import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import pg from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import { runDescribedOnce } from './described-query.js';
import { prepared, type PreparedStatement } from './prepared.js';

const builtStatements = new Map<string, PreparedStatement>();

/** What runs statements: the pool (each statement commits on its own) or one connection inside a transaction. */
export interface Statements {
  /** A hot-path statement, prepared once per connection. */
  run<T>(statement: PreparedStatement, values: unknown[]): Promise<T[]>;
  /** Any other statement (parsed and planned every time). */
  query<T>(text: string, values?: unknown[]): Promise<T[]>;
}

/** One pooled connection, held: statements that each commit on their own, and transactions, all on that connection. */
export interface Session extends Statements {
  /** `work` inside one transaction on this session's connection (see {@link PreparedStatementRunner.transaction}). */
  transaction<T>(work: (db: Statements, rollback: () => void) => Promise<T>): Promise<T>;
}

/**
 * Runs hot-path statements as named prepared statements on the pool TypeORM owns (same connections, same settings,
 * same size): planning the award's two statements costs PostgreSQL more than running them (measured: the read
 * 790 → 280 µs, the read and write together 1,630 → 640 µs per award), and TypeORM's `query` cannot name a statement.
 * Errors are pg's own (`code`, `constraint`), which the problem-details filter and `isUniqueViolation` understand.
 *
 * Poolers in transaction mode must keep prepared statements per server connection (PgBouncer ≥ 1.21 with
 * `max_prepared_statements`); see the README's "Scaling out".
 */
@Injectable()
export class PreparedStatementRunner implements Statements {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get pool(): pg.Pool {
    return (this.dataSource.driver as PostgresDriver).master as pg.Pool;
  }

  /**
   * The prepared statement for a query text built at run time, named after its hash. Only for texts drawn from a small
   * set (a list's orderings and filters, never values: those are parameters), since each is kept on every connection.
   */
  static forText(text: string): PreparedStatement {
    let statement = builtStatements.get(text);
    if (!statement) {
      statement = prepared(`q_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`, text);
      builtStatements.set(text, statement);
    }
    return statement;
  }

  run<T>(statement: PreparedStatement, values: unknown[]): Promise<T[]> {
    return this.session((session) => session.run<T>(statement, values));
  }

  async query<T>(text: string, values: unknown[] = []): Promise<T[]> {
    return (await this.pool.query(text, values)).rows as T[];
  }

  /** `work` inside one transaction on one connection: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (db: Statements, rollback: () => void) => Promise<T>): Promise<T> {
    return this.session((session) => session.transaction(work));
  }

  /**
   * `work` on one pooled connection, held until it settles. A request that runs several statements in a row takes one
   * turn in the pool's queue instead of one per statement: with more requests in flight than pooled connections, each
   * turn is a wait behind the whole queue.
   */
  async session<T>(work: (session: Session) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const state = { broken: false };
    try {
      return await work({
        ...statementsOn(client, state),
        transaction: (inner) => inTransaction(client, inner, state),
      });
    } finally {
      // A broken connection (see statementsOn, inTransaction) is destroyed rather than returned to the pool.
      client.release(state.broken || undefined);
    }
  }
}

/**
 * Statements on a held connection. A failure that is not PostgreSQL's answer to the statement (the connection dropped,
 * the client-side query timeout fired with the statement maybe still running) marks the connection broken, so it is
 * destroyed rather than handed to the next request — what `pool.query` does on any error. A statement PostgreSQL
 * refused (a unique violation, say) leaves it healthy, and the request's own errors do not touch it.
 */
function statementsOn(client: pg.PoolClient, state: { broken: boolean }): Statements {
  const onFailure = (error: unknown): never => {
    if (!(error instanceof pg.DatabaseError)) state.broken = true;
    throw error;
  };
  return {
    run: <R>(statement: PreparedStatement, values: unknown[]) => runDescribedOnce<R>(client, statement, values).catch(onFailure),
    query: async <R>(text: string, values: unknown[] = []) => (await client.query(text, values).catch(onFailure)).rows as R[],
  };
}

/** BEGIN, `work`, then COMMIT (ROLLBACK when it throws or asked for one); `state.broken` when the rollback failed too. */
async function inTransaction<T>(client: pg.PoolClient, work: (db: Statements, rollback: () => void) => Promise<T>, state: { broken: boolean }): Promise<T> {
  try {
    await client.query('BEGIN');
    let rollbackOnly = false;
    const result = await work(statementsOn(client, state), () => (rollbackOnly = true));
    await client.query(rollbackOnly ? 'ROLLBACK' : 'COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => (state.broken = true));
    throw error;
  }
}
