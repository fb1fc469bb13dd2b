import { describe, expect, it } from 'vitest';
import { clientIp, normalizeIp, TrustedProxies } from './client-ip.js';

const request = (peer: string | undefined, forwardedFor?: string | string[]) => ({
  socket: { remoteAddress: peer },
  headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
});

describe('client IP', () => {
  it('normalises IPv4-mapped IPv6 peers', () => {
    expect(normalizeIp('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(normalizeIp('::FFFF:10.0.0.1')).toBe('10.0.0.1');
    expect(normalizeIp('2001:DB8::1')).toBe('2001:db8::1');
  });

  it('is the socket peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    const none = new TrustedProxies([]);
    expect(clientIp(request('::ffff:203.0.113.7'), none)).toBe('203.0.113.7');
    expect(clientIp(request('203.0.113.7', '1.2.3.4'), none)).toBe('203.0.113.7');
  });

  it('is the socket peer when the peer is not trusted (a forged header changes nothing)', () => {
    const trusted = new TrustedProxies(['10.0.0.0/8']);
    expect(clientIp(request('198.51.100.9', '1.2.3.4, 10.0.0.5'), trusted)).toBe('198.51.100.9');
  });

  it('walks X-Forwarded-For right to left from a trusted peer, skipping trusted hops', () => {
    const trusted = new TrustedProxies(['10.0.0.0/8', '192.168.1.1', '2001:db8::/32']);
    expect(clientIp(request('10.1.2.3', '203.0.113.7'), trusted)).toBe('203.0.113.7');
    // The client prepended a forged entry; the first untrusted hop from the right is what our proxy saw.
    expect(clientIp(request('::ffff:10.1.2.3', '6.6.6.6, 203.0.113.7, 192.168.1.1'), trusted)).toBe('203.0.113.7');
    expect(clientIp(request('2001:db8::10', '2001:db8::99, 2001:0DB9::1'), trusted)).toBe('2001:db9::1');
    // Several headers are one list.
    expect(clientIp(request('10.0.0.1', ['6.6.6.6, 203.0.113.8', '10.0.0.2']), trusted)).toBe('203.0.113.8');
    // Ports some proxies append are dropped; IPv4-mapped entries are normalised.
    expect(clientIp(request('10.0.0.1', '203.0.113.9:51234'), trusted)).toBe('203.0.113.9');
    expect(clientIp(request('10.0.0.1', '[2001:db9::5]:443'), trusted)).toBe('2001:db9::5');
    expect(clientIp(request('10.0.0.1', '::ffff:203.0.113.10'), trusted)).toBe('203.0.113.10');
  });

  it('falls back to the nearest trusted hop when the header is missing, all-trusted or garbage', () => {
    const trusted = new TrustedProxies(['10.0.0.0/8', '127.0.0.1']);
    expect(clientIp(request('10.0.0.1'), trusted)).toBe('10.0.0.1');
    expect(clientIp(request('10.0.0.1', ''), trusted)).toBe('10.0.0.1');
    expect(clientIp(request('10.0.0.1', '10.0.0.7, 127.0.0.1'), trusted)).toBe('10.0.0.7');
    expect(clientIp(request('10.0.0.1', 'not-an-ip'), trusted)).toBe('10.0.0.1');
    expect(clientIp(request('10.0.0.1', '203.0.113.1, garbage, 10.0.0.9'), trusted)).toBe('10.0.0.9');
  });

  it('matches IPv4 and IPv6 addresses and ranges', () => {
    const trusted = new TrustedProxies(['127.0.0.1', '172.16.0.0/12', '::1', 'fd00::/8', '::ffff:192.0.2.1']);
    expect(trusted.has('127.0.0.1')).toBe(true);
    expect(trusted.has('127.0.0.2')).toBe(false);
    expect(trusted.has('172.31.255.255')).toBe(true);
    expect(trusted.has('172.32.0.1')).toBe(false);
    expect(trusted.has('::1')).toBe(true);
    expect(trusted.has('fd12:3456::1')).toBe(true);
    expect(trusted.has('fe80::1')).toBe(false);
    expect(trusted.has('192.0.2.1')).toBe(true);
    expect(trusted.has('garbage')).toBe(false);
  });

  it('has no peer to report when the socket is gone', () => {
    expect(clientIp({ socket: null, headers: {} }, new TrustedProxies([]))).toBe('unknown');
  });
});
