// No dependencies: the benchmark's baseline server creates its users with the very same statement.

/**
 * The user, created with an empty wallet when new, as the first CTEs of a statement: `created` holds the new user's id
 * (none when it existed). $1 owner, $2 external user id, $3 api key id, $4 subject, $5 conversion rate.
 * A concurrent creator may commit between our insert and our read (the insert then does nothing and the statement's
 * snapshot can't see the row yet): a statement that finds no user must be retried. `gate`: a condition (SQL) that
 * must hold for the user to be created.
 */
export function ensureUserCtes(gate = 'true'): string {
  return `created AS (
    INSERT INTO users (owner, external_user_id, api_key_used, oauth_user_id) SELECT $1, $2, $3::uuid, $4 WHERE ${gate}
    ON CONFLICT (owner, external_user_id) DO NOTHING RETURNING id
  ), wallet AS (
    INSERT INTO wallets (user_id, conversion_rate, api_key_used, oauth_user_id)
    SELECT id, $5, $3, $4 FROM created
  ), ensured_user AS (
    SELECT id, true AS created FROM created
    UNION ALL
    SELECT id, false AS created FROM users WHERE owner = $1 AND external_user_id = $2
  )`;
}

/** The CTEs of {@link ensureUserCtes}, ungated. */
export const ENSURE_USER_CTES = ensureUserCtes();

/** The user alone: one row `{id, created}`, or none (retry, as above). */
export const ENSURE_USER_SQL = `WITH ${ENSURE_USER_CTES} SELECT id, created FROM ensured_user`;

/** Attempts of a statement built on ENSURE_USER_CTES before giving up (each retry follows a concurrent creation). */
export const ENSURE_USER_ATTEMPTS = 5;
