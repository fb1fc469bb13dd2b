import { createHash } from 'node:crypto';
import { normalizeIp as ipv6Subnet, type ThrottlerGetTrackerFunction } from '@nestjs/throttler';
import type { AuthContext } from '../auth/auth-context.js';
import { clientIp, type ClientIpSource, TrustedProxies } from './client-ip.js';
import type { TrackerKind } from './rate-limits.policy.js';

/** A request as the trackers read it: after the credentials guard, before validation (so the body is raw). */
type TrackedRequest = ClientIpSource & { auth?: AuthContext; body?: unknown };

/** The caller the per-key limits count: its API key, or for a bearer-only caller its token subject. */
export function callerTracker(auth: AuthContext | undefined): string {
  if (auth?.apiKey) return `key:${auth.apiKey.id}`;
  if (auth?.oauthUserId) return `sub:${auth.oauthUserId}`;
  return '';
}

/**
 * The end user the per-`externalUserId` limit counts, taken from the raw body when it is a string, within the
 * caller's namespace (two tenants' `user_1` are two users, API.md §2). No string, no tracker: that limit is skipped
 * and validation answers later.
 */
export function externalUserTracker(auth: AuthContext | undefined, body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return '';
  const externalUserId = (body as Record<string, unknown>).externalUserId;
  const caller = callerTracker(auth);
  if (typeof externalUserId !== 'string' || caller === '') return '';
  return `${caller}/${externalUserId}`;
}

/** The client's address as the per-IP limits count it: IPv6 clients per /64 (one host usually holds a whole /64), as @nestjs/throttler does. */
export function ipTracker(request: ClientIpSource, trusted: TrustedProxies): string {
  return `ip:${ipv6Subnet(clientIp(request, trusted), 64)}`;
}

/** An empty tracker means "this limit does not apply to this request". */
export function trackerFor(kind: TrackerKind, trusted: TrustedProxies): ThrottlerGetTrackerFunction {
  switch (kind) {
    case 'caller':
      return (request) => callerTracker((request as TrackedRequest).auth);
    case 'subject':
      return (request) => {
        const subject = (request as TrackedRequest).auth?.oauthUserId;
        return subject ? `sub:${subject}` : '';
      };
    case 'ip':
      return (request) => ipTracker(request as TrackedRequest, trusted);
    case 'external-user':
      return (request) => externalUserTracker((request as TrackedRequest).auth, (request as TrackedRequest).body);
  }
}

/**
 * The counter's name: limit name + tracker. Trackers carry client-chosen text (subjects, external user ids of any
 * length), so long ones are hashed to keep keys short.
 */
export function counterKey(limitName: string, tracker: string): string {
  const compact = tracker.length <= 100 ? tracker : `sha256:${createHash('sha256').update(tracker).digest('base64url')}`;
  return `${limitName}:${compact}`;
}
