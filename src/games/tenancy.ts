import type { AuthContext } from '../auth/auth-context.js';
import { DomainError } from '../common/domain-error.js';

/**
 * Owner keys as stored in `games.owner` and `users.owner`: `key:<apiKeyId>` when the request carries an API key,
 * else `sub:<token subject>` (API.md §2). Unique keys include the owner so tenants never collide.
 */
export function ownerKeyOf(auth: AuthContext): string {
  if (auth.apiKey) return `key:${auth.apiKey.id}`;
  if (auth.oauthUserId) return `sub:${auth.oauthUserId}`;
  throw new DomainError('unauthorized', 'Invalid authentication credentials');
}

/** A key sees what it owns, a subject what it owns, an admin everything. */
export function canAccess(auth: AuthContext, owner: string): boolean {
  return auth.isAdmin || owner === ownerKeyOf(auth);
}

/** The columns every tenant row carries: the key that was sent and the subject of the token that was sent. */
export interface Stamps {
  apiKeyUsed: string | null;
  oauthUserId: string | null;
}

export function stampsOf(auth: AuthContext): Stamps {
  return { apiKeyUsed: auth.apiKey?.id ?? null, oauthUserId: auth.oauthUserId ?? null };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids that are not UUIDs never reach PostgreSQL (they would be a cast error, not a 404). */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A `LIKE` pattern matching `text` anywhere, with its wildcards escaped. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (match) => `\\${match}`)}%`;
}
