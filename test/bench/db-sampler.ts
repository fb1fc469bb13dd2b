/**
 * Samples PostgreSQL's sessions of the bench database every 100 ms during a run: how many run a statement, how many
 * of those wait for a lock, and how many sit "idle in transaction" (holding their locks while the server process
 * prepares its next statement). The averages tell a lock-bound award path from a CPU-bound one.
 */
import pg from 'pg';

export interface DbActivity {
  /** Average sessions running a statement. */
  active: number;
  /** Average sessions waiting for a lock (a subset of `active`). */
  lockWaits: number;
  /** Average sessions inside a transaction, waiting for the next statement from the server. */
  idleInTransaction: number;
  samples: number;
  /** Database-wide counters over the run (pg_stat_database; flushed by backends about once a second, so approximate). */
  counters?: { transactions: number; rowsInserted: number; rowsUpdated: number; rowsFetched: number; blocksRead: number; blocksHit: number };
}

const COUNTERS_SQL = `SELECT xact_commit + xact_rollback AS transactions, tup_inserted AS "rowsInserted", tup_updated AS "rowsUpdated",
  tup_fetched AS "rowsFetched", blks_read AS "blocksRead", blks_hit AS "blocksHit" FROM pg_stat_database WHERE datname = current_database()`;
type Counters = NonNullable<DbActivity['counters']>;

export class DbSampler {
  private client?: pg.Client;
  private timer?: NodeJS.Timeout;
  private totals = { active: 0, lockWaits: 0, idleInTransaction: 0, samples: 0 };
  private pending?: Promise<unknown>;
  private connected = false;
  private countersBefore?: Counters;

  constructor(private readonly databaseUrl: string) {}

  private async connect(): Promise<pg.Client> {
    if (!this.connected) {
      this.client = new pg.Client({ connectionString: this.databaseUrl });
      await this.client.connect();
      this.connected = true;
    }
    return this.client!;
  }

  /** Autovacuum workers running now (in any database of the cluster). */
  async autovacuumWorkers(): Promise<number> {
    const db = await this.connect();
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'`);
    return rows[0].n as number;
  }

  /** Writes the dirty buffers a run left now, rather than during a later run. */
  async checkpoint(): Promise<void> {
    await (await this.connect()).query('CHECKPOINT');
  }

  async start(): Promise<void> {
    await this.connect();
    this.totals = { active: 0, lockWaits: 0, idleInTransaction: 0, samples: 0 };
    this.countersBefore = await this.counters();
    this.timer = setInterval(() => {
      if (this.pending) return;
      this.pending = this.client!
        .query(
          `SELECT count(*) FILTER (WHERE state = 'active')::int AS active,
                  count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock')::int AS "lockWaits",
                  count(*) FILTER (WHERE state = 'idle in transaction')::int AS "idleInTransaction"
           FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        )
        .then(({ rows: [row] }) => {
          this.totals.active += row.active;
          this.totals.lockWaits += row.lockWaits;
          this.totals.idleInTransaction += row.idleInTransaction;
          this.totals.samples++;
        })
        .catch(() => undefined)
        .finally(() => (this.pending = undefined));
    }, 100);
  }

  private async counters(): Promise<Counters | undefined> {
    try {
      await this.client!.query('SELECT pg_stat_clear_snapshot()');
      const [row] = (await this.client!.query(COUNTERS_SQL)).rows;
      return Object.fromEntries(Object.entries(row).map(([key, value]) => [key, Number(value)])) as Counters;
    } catch {
      return undefined;
    }
  }

  async stop(): Promise<DbActivity> {
    clearInterval(this.timer);
    await this.pending;
    // Backends flush their statistics when idle, at most once a second.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const after = await this.counters();
    const before = this.countersBefore;
    const counters =
      before && after
        ? {
            transactions: after.transactions - before.transactions,
            rowsInserted: after.rowsInserted - before.rowsInserted,
            rowsUpdated: after.rowsUpdated - before.rowsUpdated,
            rowsFetched: after.rowsFetched - before.rowsFetched,
            blocksRead: after.blocksRead - before.blocksRead,
            blocksHit: after.blocksHit - before.blocksHit,
          }
        : undefined;
    const { samples } = this.totals;
    const average = (value: number) => (samples ? Math.round((value / samples) * 10) / 10 : 0);
    return {
      active: average(this.totals.active),
      lockWaits: average(this.totals.lockWaits),
      idleInTransaction: average(this.totals.idleInTransaction),
      samples,
      counters,
    };
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.client?.end().catch(() => undefined);
  }
}
