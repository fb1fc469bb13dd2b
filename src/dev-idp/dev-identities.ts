/**
 * The fixed identities of the embedded dev identity provider (API.md §11). Dev only: these passwords and secrets
 * are public knowledge.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

export interface DevUser {
  readonly username: string;
  readonly password: string;
  readonly admin: boolean;
  readonly name: string;
  readonly email: string;
}

export const DEV_USERS: readonly DevUser[] = Object.freeze([
  { username: 'admin', password: 'admin', admin: true, name: 'Questline Admin', email: 'admin@questline.dev' },
  { username: 'alice', password: 'alice', admin: false, name: 'Alice Example', email: 'alice@questline.dev' },
  { username: 'bob', password: 'bob', admin: false, name: 'Bob Example', email: 'bob@questline.dev' },
]);

export const DEV_ADMIN_CLIENT_ID = 'questline-admin';
export const DEV_ADMIN_CLIENT_SECRET = 'questline-admin-secret';
export const DEV_SERVICE_CLIENT_ID = 'questline-service';
export const DEV_SERVICE_CLIENT_SECRET = 'questline-service-secret';
/** The bearer-only API client has a secret only so it could authenticate at introspection/revocation. */
export const DEV_API_CLIENT_SECRET = 'questline-api-secret';

/** Realm role every Keycloak user holds (Keycloak's `default-roles-<realm>`, plus `offline_access` and `uma_authorization`). */
export function defaultRealmRoles(realm: string): string[] {
  return [`default-roles-${realm}`, 'offline_access', 'uma_authorization'];
}

/** Usernames compare as Keycloak does: trimmed and case-insensitive. */
export function normalizeUsername(username: string): string {
  return username.trim().toLowerCase();
}

export function findDevUser(username: string): DevUser | undefined {
  const wanted = normalizeUsername(username);
  return DEV_USERS.find((user) => user.username === wanted);
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Returns the user when the password matches (constant-time compare), else undefined. */
export function checkDevUserPassword(username: unknown, password: unknown): DevUser | undefined {
  if (typeof username !== 'string' || typeof password !== 'string') return undefined;
  const user = findDevUser(username);
  // Always compare, so an unknown user costs the same as a wrong password.
  const matches = timingSafeEqual(digest(user?.password ?? '\u0000unknown'), digest(password));
  return user && matches ? user : undefined;
}
