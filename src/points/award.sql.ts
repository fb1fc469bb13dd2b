// The statements of an award (see AwardService), kept apart so the benchmark's plain-SQL baseline runs the very same
// ones (test/bench/baseline-server.ts).

/** Locks the user's running aggregate on the task (creating it if new) and returns it. $1 task, $2 user, $3 game. */
export const AWARD_USER_STATS_SQL = `INSERT INTO task_user_award_stats (task_id, user_id, game_id) VALUES ($1, $2, $3)
   ON CONFLICT (task_id, user_id) DO UPDATE SET award_count = task_user_award_stats.award_count
   RETURNING award_count AS "awardCount", first_at AS "firstAt", last_at AS "lastAt", previous_at AS "previousAt"`;

/**
 * After that lock, in a fresh snapshot: the task's aggregate and the award stored under the idempotency key, if any.
 * $1 task, $2 user, $3 idempotency key (or null).
 */
export const AWARD_LATEST_SQL = `SELECT t.award_count AS "awardCount", t.first_at AS "firstAt", t.last_at AS "lastAt",
          p.id AS "awardId", p.points, p.case_name AS "caseName", p.request_hash AS "requestHash",
          p.created_user AS "createdUser", p.created_at AS "createdAt"
   FROM (SELECT 1) AS one
   LEFT JOIN task_award_stats t ON t.task_id = $1
   LEFT JOIN user_points p ON $3::text IS NOT NULL AND p.task_id = $1 AND p.user_id = $2 AND p.idempotency_key = $3`;

/**
 * One statement: the award, both aggregates (the task's is locked here, just before the commit), the wallet and the
 * ledger row. $1 user, $2 task, $3 game, $4 points, $5 case, $6 data, $7 idempotency key, $8 request hash,
 * $9 created user, $10 api key id, $11 subject, $12 time.
 */
export const AWARD_WRITE_SQL = `WITH award AS (
     INSERT INTO user_points (user_id, task_id, game_id, points, case_name, data, idempotency_key, request_hash, created_user,
                              api_key_used, oauth_user_id, created_at)
     VALUES ($1::uuid, $2::uuid, $3::uuid, $4::int, $5, $6::jsonb, $7, $8, $9, $10::uuid, $11, $12::timestamptz)
     RETURNING id, created_at
   ), task_stats AS (
     INSERT INTO task_award_stats (task_id, award_count, first_at, last_at) VALUES ($2::uuid, 1, $12::timestamptz, $12::timestamptz)
     ON CONFLICT (task_id) DO UPDATE SET award_count = task_award_stats.award_count + 1,
       first_at = LEAST(COALESCE(task_award_stats.first_at, EXCLUDED.first_at), EXCLUDED.first_at),
       last_at = GREATEST(COALESCE(task_award_stats.last_at, EXCLUDED.last_at), EXCLUDED.last_at)
   ), user_stats AS (
     UPDATE task_user_award_stats
     SET award_count = award_count + 1, points_total = points_total + $4::int, first_at = COALESCE(first_at, $12::timestamptz),
         previous_at = last_at, last_at = $12::timestamptz
     WHERE task_id = $2::uuid AND user_id = $1::uuid
   ), wallet AS (
     UPDATE wallets SET points_balance = points_balance + $4::int, updated_at = now() WHERE user_id = $1::uuid RETURNING id
   ), ledger AS (
     INSERT INTO wallet_transactions (wallet_id, transaction_type, points, coins, applied_conversion_rate, api_key_used, oauth_user_id, created_at)
     SELECT id, 'AssignPoints', $4::int, 0, NULL, $10::uuid, $11, $12::timestamptz FROM wallet
   )
   SELECT id, created_at AS "createdAt" FROM award`;
