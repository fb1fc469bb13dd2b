/**
 * What each export contains. The SQL is constant (never built from request input); `$1`/`$2` bound the creation time
 * (either may be null), `$3` is the row limit. Rows come in creation order, ties broken by id, so an export is
 * deterministic. Amounts are cast to float8 so they export as numbers (bigint and numeric arrive as strings).
 */
export interface DatasetDefinition {
  name: string;
  columns: string[];
  sql: string;
}

function windowed(select: string, from: string, alias: string): string {
  return `SELECT ${select}
  FROM ${from}
  WHERE ($1::timestamptz IS NULL OR ${alias}.created_at >= $1::timestamptz)
    AND ($2::timestamptz IS NULL OR ${alias}.created_at <= $2::timestamptz)
  ORDER BY ${alias}.created_at, ${alias}.id
  LIMIT $3::int`;
}

/** The user and where it happened, first in awards and actions. */
const EVENT_COLUMNS = ['id', 'externalUserId', 'gameId', 'externalGameId', 'taskId', 'externalTaskId'];

export const DATASETS: Record<string, DatasetDefinition> = {
  users: {
    name: 'users',
    columns: ['id', 'externalUserId', 'owner', 'pointsBalance', 'coinsBalance', 'apiKeyUsed', 'oauthUserId', 'created_at', 'updated_at'],
    sql: windowed(
      `u.id, u.external_user_id AS "externalUserId", u.owner, w.points_balance::float8 AS "pointsBalance",
       w.coins_balance::float8 AS "coinsBalance", u.api_key_used AS "apiKeyUsed", u.oauth_user_id AS "oauthUserId",
       u.created_at, u.updated_at`,
      'users u LEFT JOIN wallets w ON w.user_id = u.id',
      'u',
    ),
  },
  'user-points': {
    name: 'user-points',
    columns: [...EVENT_COLUMNS, 'points', 'caseName', 'data', 'apiKeyUsed', 'oauthUserId', 'created_at'],
    sql: windowed(
      `p.id, u.external_user_id AS "externalUserId", p.game_id AS "gameId", g.external_game_id AS "externalGameId",
       p.task_id AS "taskId", t.external_task_id AS "externalTaskId", p.points, p.case_name AS "caseName", p.data,
       p.api_key_used AS "apiKeyUsed", p.oauth_user_id AS "oauthUserId", p.created_at`,
      'user_points p JOIN users u ON u.id = p.user_id JOIN games g ON g.id = p.game_id JOIN tasks t ON t.id = p.task_id',
      'p',
    ),
  },
  'user-actions': {
    name: 'user-actions',
    columns: [...EVENT_COLUMNS, 'typeAction', 'description', 'data', 'apiKeyUsed', 'oauthUserId', 'created_at'],
    sql: windowed(
      `a.id, u.external_user_id AS "externalUserId", a.game_id AS "gameId", g.external_game_id AS "externalGameId",
       a.task_id AS "taskId", t.external_task_id AS "externalTaskId", a.type_action AS "typeAction", a.description, a.data,
       a.api_key_used AS "apiKeyUsed", a.oauth_user_id AS "oauthUserId", a.created_at`,
      'user_actions a JOIN users u ON u.id = a.user_id LEFT JOIN games g ON g.id = a.game_id LEFT JOIN tasks t ON t.id = a.task_id',
      'a',
    ),
  },
  'wallet-transactions': {
    name: 'wallet-transactions',
    columns: [
      'id',
      'walletId',
      'externalUserId',
      'transactionType',
      'points',
      'coins',
      'appliedConversionRate',
      'apiKeyUsed',
      'oauthUserId',
      'created_at',
    ],
    sql: windowed(
      `x.id, x.wallet_id AS "walletId", u.external_user_id AS "externalUserId", x.transaction_type AS "transactionType",
       x.points::float8 AS points, x.coins::float8 AS coins, x.applied_conversion_rate::float8 AS "appliedConversionRate",
       x.api_key_used AS "apiKeyUsed", x.oauth_user_id AS "oauthUserId", x.created_at`,
      'wallet_transactions x JOIN wallets w ON w.id = x.wallet_id JOIN users u ON u.id = w.user_id',
      'x',
    ),
  },
};

export const DATASET_NAMES = Object.keys(DATASETS);
