import { describe, expect, it } from 'vitest';
import type { ExecutionContext } from '@nestjs/common';
import type { AuthContext } from '../auth/auth-context.js';
import { TrustedProxies } from './client-ip.js';
import { callerTracker, counterKey, externalUserTracker, trackerFor } from './trackers.js';

const key: AuthContext = { isAdmin: false, roles: [], apiKey: { id: 'k1', prefix: 'qk_live_x', client: 'c', scopes: ['write'], expiresAt: null } };
const bearer: AuthContext = { isAdmin: false, roles: [], oauthUserId: 'alice' };
const context = {} as ExecutionContext;

describe('trackers', () => {
  it('counts a caller by its API key, a bearer-only caller by its subject', () => {
    expect(callerTracker(key)).toBe('key:k1');
    expect(callerTracker({ ...key, oauthUserId: 'alice' })).toBe('key:k1');
    expect(callerTracker(bearer)).toBe('sub:alice');
    expect(callerTracker(undefined)).toBe('');
  });

  it('reads externalUserId from the raw body only when it is a string, within the caller’s namespace', () => {
    expect(externalUserTracker(key, { externalUserId: 'u1' })).toBe('key:k1/u1');
    expect(externalUserTracker(bearer, { externalUserId: 'u1' })).toBe('sub:alice/u1');
    expect(externalUserTracker(key, { externalUserId: 42 })).toBe('');
    expect(externalUserTracker(key, ['u1'])).toBe('');
    expect(externalUserTracker(key, undefined)).toBe('');
    expect(externalUserTracker(key, 'u1')).toBe('');
  });

  it('counts IPv6 clients per /64 and IPv4 clients per address', async () => {
    const ip = trackerFor('ip', new TrustedProxies([]));
    const of = (address: string) => ip({ socket: { remoteAddress: address }, headers: {} }, context);
    expect(await of('2001:db8:1:2:aaaa::1')).toBe(await of('2001:db8:1:2:bbbb::2'));
    expect(await of('2001:db8:1:2::1')).not.toBe(await of('2001:db8:1:3::1'));
    expect(await of('::ffff:203.0.113.1')).toBe('ip:203.0.113.1');
  });

  it('keeps counter keys short whatever the client sends', () => {
    expect(counterKey('ip', 'ip:1.2.3.4')).toBe('ip:ip:1.2.3.4');
    const long = counterKey('external-user', `key:k1/${'x'.repeat(5000)}`);
    expect(long).toMatch(/^external-user:sha256:[A-Za-z0-9_-]{43}$/);
    expect(long).not.toBe(counterKey('external-user', `key:k1/${'x'.repeat(5001)}`));
  });
});
