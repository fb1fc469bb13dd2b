/**
 * Scenario 8's history: 1,000,000 past awards on the award scenario's game and task, written with bulk SQL exactly as
 * the app would have written them one by one — award rows, one ledger row each, wallet balances, and both running
 * aggregates recomputed from the award rows — so the database is in a state the app could have reached itself.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export interface SeedTarget extends UserSet {
  gameId: string;
  taskId: string;
  /** Award n goes to externalUserId `${userPrefix}${n % users}`. */
  awards: number;
}

export interface UserSet {
  owner: string;
  apiKeyId: string;
  userPrefix: string;
  users: number;
  conversionRate: number;
}

const ENSURE_USERS_SQL = `WITH created AS (
    INSERT INTO users (owner, external_user_id, api_key_used)
    SELECT $1, $2 || n, $3::uuid FROM generate_series(0, $4::int - 1) AS n
    ON CONFLICT (owner, external_user_id) DO NOTHING RETURNING id
  )
  INSERT INTO wallets (user_id, conversion_rate, api_key_used) SELECT id, $5, $3::uuid FROM created`;

async function ensureUsers(client: pg.Client, set: UserSet): Promise<void> {
  await client.query(ENSURE_USERS_SQL, [set.owner, set.userPrefix, set.apiKeyId, set.users, set.conversionRate]);
}

export async function seedHistory(databaseUrl: string, target: SeedTarget): Promise<{ seconds: number; taskAwards: number }> {
  const started = Date.now();
  // Marks this call's award rows (in request_hash, which real awards fill with a SHA-256) so that only they get
  // ledger rows and wallet credit here.
  const tag = `bench-seed-${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`SET statement_timeout = 0`);
    await client.query('BEGIN');
    // The users the award scenario rotates over (they exist already), each with its wallet.
    await ensureUsers(client, target);
    await client.query(
      `CREATE TEMP TABLE seed_users ON COMMIT DROP AS
       SELECT n, u.id AS user_id FROM generate_series(0, $3::int - 1) AS n
       JOIN users u ON u.owner = $1 AND u.external_user_id = $2 || n`,
      [target.owner, target.userPrefix, target.users],
    );
    // Past awards, 7 s apart, all older than the task's earliest award so far (the live ones stay the latest).
    await client.query(
      `INSERT INTO user_points (user_id, task_id, game_id, points, case_name, data, idempotency_key, request_hash, created_user,
                                api_key_used, created_at)
       SELECT s.user_id, $1::uuid, $2::uuid, 1, 'default', '{}'::jsonb, NULL, $6, false, $3::uuid,
              t0.at - (($4::int - g) * interval '7 seconds')
       FROM generate_series(0, $4::int - 1) AS g
       JOIN seed_users s ON s.n = g % $5::int
       CROSS JOIN (SELECT COALESCE(min(created_at), now()) - interval '1 second' AS at FROM user_points WHERE task_id = $1::uuid) AS t0`,
      [target.taskId, target.gameId, target.apiKeyId, target.awards, target.users, tag],
    );
    // One ledger row per seeded award, and the wallets moved by as much.
    await client.query(
      `INSERT INTO wallet_transactions (wallet_id, transaction_type, points, coins, applied_conversion_rate, api_key_used, created_at)
       SELECT w.id, 'AssignPoints', p.points, 0, NULL, p.api_key_used, p.created_at
       FROM user_points p JOIN wallets w ON w.user_id = p.user_id
       WHERE p.task_id = $1::uuid AND p.request_hash = $2`,
      [target.taskId, tag],
    );
    await client.query(
      `UPDATE wallets w SET points_balance = w.points_balance + s.total, updated_at = now()
       FROM (SELECT user_id, sum(points) AS total FROM user_points WHERE task_id = $1::uuid AND request_hash = $2 GROUP BY user_id) AS s
       WHERE w.user_id = s.user_id`,
      [target.taskId, tag],
    );
    // The running aggregates, recomputed from every award row of the task.
    await client.query(
      `INSERT INTO task_award_stats (task_id, award_count, user_count, first_at, last_at)
       SELECT $1::uuid, count(*), count(DISTINCT user_id), min(created_at), max(created_at) FROM user_points WHERE task_id = $1::uuid
       ON CONFLICT (task_id) DO UPDATE SET award_count = EXCLUDED.award_count, user_count = EXCLUDED.user_count,
         first_at = EXCLUDED.first_at, last_at = EXCLUDED.last_at`,
      [target.taskId],
    );
    await client.query(
      `INSERT INTO task_user_award_stats (task_id, user_id, game_id, external_user_id, award_count, points_total, first_at, last_at, previous_at)
       SELECT $1::uuid, p.user_id, $2::uuid, u.external_user_id, count(*), sum(p.points), min(p.created_at), max(p.created_at),
              (array_agg(p.created_at ORDER BY p.created_at DESC))[2]
       FROM user_points p JOIN users u ON u.id = p.user_id WHERE p.task_id = $1::uuid GROUP BY p.user_id, u.external_user_id
       ON CONFLICT (task_id, user_id) DO UPDATE SET award_count = EXCLUDED.award_count, points_total = EXCLUDED.points_total,
         first_at = EXCLUDED.first_at, last_at = EXCLUDED.last_at, previous_at = EXCLUDED.previous_at`,
      [target.taskId, target.gameId],
    );
    await client.query('COMMIT');
    // What autovacuum would do after a bulk load, done now so scenario 8 does not measure it.
    await client.query(`VACUUM (ANALYZE) user_points, wallet_transactions, wallets, users, task_award_stats, task_user_award_stats`);
    await client.query('CHECKPOINT');
    const [{ count }] = (await client.query(`SELECT award_count AS count FROM task_award_stats WHERE task_id = $1`, [target.taskId])).rows;
    return { seconds: (Date.now() - started) / 1000, taskAwards: Number(count) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

export interface Consistency {
  ok: boolean;
  awards: number;
  /** (task, user) aggregates whose count, total, first or last time differ from the award rows. */
  userAggregateMismatches: number;
  /** Tasks whose aggregate differs from the award rows. */
  taskAggregateMismatches: number;
  /** Wallets whose points balance differs from the sum of their ledger. */
  walletMismatches: number;
  /** Sum of every award, and of every AssignPoints ledger row: equal when each award has its ledger row. */
  pointsAwarded: number;
  pointsInLedger: number;
}

/** After the run: every aggregate and wallet still agrees with the rows it summarises (the app's and the baseline's). */
export async function checkConsistency(databaseUrl: string): Promise<Consistency> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`SET statement_timeout = 0`);
    // Requests still in flight when the load stopped may be committing: wait until no other session is busy, then
    // read everything from one snapshot.
    for (let i = 0; i < 50; i++) {
      const { rows } = await client.query(
        `SELECT count(*)::int AS busy FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')`,
      );
      if (rows[0].busy === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const one = async (sql: string) => Number((await client.query(sql)).rows[0].value);
    const userAggregateMismatches = await one(
      `SELECT count(*) AS value FROM task_user_award_stats s
       FULL JOIN (SELECT task_id, user_id, count(*) AS c, sum(points) AS p, min(created_at) AS f, max(created_at) AS l
                  FROM user_points GROUP BY task_id, user_id) a ON a.task_id = s.task_id AND a.user_id = s.user_id
       WHERE s.award_count IS DISTINCT FROM a.c OR s.points_total IS DISTINCT FROM a.p OR s.first_at IS DISTINCT FROM a.f
          OR s.last_at IS DISTINCT FROM a.l`,
    );
    const taskAggregateMismatches = await one(
      `SELECT count(*) AS value FROM task_award_stats s
       FULL JOIN (SELECT task_id, count(*) AS c, count(DISTINCT user_id) AS u, min(created_at) AS f, max(created_at) AS l
                  FROM user_points GROUP BY task_id) a
         ON a.task_id = s.task_id
       WHERE (s.award_count IS DISTINCT FROM a.c OR s.user_count IS DISTINCT FROM a.u OR s.first_at IS DISTINCT FROM a.f
              OR s.last_at IS DISTINCT FROM a.l)
         AND NOT (a.task_id IS NULL AND s.award_count = 0)`,
    );
    const walletMismatches = await one(
      // The benchmark never converts points, so a wallet's balance is the sum of its AssignPoints rows.
      `SELECT count(*) AS value FROM wallets w
       LEFT JOIN (SELECT wallet_id, sum(points) AS p FROM wallet_transactions WHERE transaction_type = 'AssignPoints' GROUP BY wallet_id) l
         ON l.wallet_id = w.id
       WHERE w.points_balance <> COALESCE(l.p, 0)`,
    );
    const awards = await one(`SELECT count(*) AS value FROM user_points`);
    const pointsAwarded = await one(`SELECT COALESCE(sum(points), 0) AS value FROM user_points`);
    const pointsInLedger = await one(`SELECT COALESCE(sum(points), 0) AS value FROM wallet_transactions WHERE transaction_type = 'AssignPoints'`);
    await client.query('COMMIT');
    return {
      ok: userAggregateMismatches === 0 && taskAggregateMismatches === 0 && walletMismatches === 0 && pointsAwarded === pointsInLedger,
      awards,
      userAggregateMismatches,
      taskAggregateMismatches,
      walletMismatches,
      pointsAwarded,
      pointsInLedger,
    };
  } finally {
    await client.end();
  }
}
