import { BlockList, isIP, SocketAddress } from 'node:net';

/** The socket peer and forwarding header of a request, as far as client-IP resolution needs them. */
export interface ClientIpSource {
  socket?: { remoteAddress?: string } | null;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) becomes `1.2.3.4`; IPv6 addresses take their canonical
 * form (`2001:0DB8:0::1` → `2001:db8::1`), so one address is one counter.
 */
export function normalizeIp(address: string): string {
  const lower = address.toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  if (mapped) return mapped[1];
  return isIP(lower) === 6 ? new SocketAddress({ address: lower, family: 'ipv6' }).address : lower;
}

/**
 * One `X-Forwarded-For` hop as an address, or undefined when it is not one. Some proxies append a port
 * (`1.2.3.4:5678`, `[2001:db8::1]:443`); it is dropped.
 */
function parseHop(hop: string): string | undefined {
  let candidate = hop.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(candidate);
  if (bracketed) candidate = bracketed[1];
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d+$/.test(candidate)) candidate = candidate.slice(0, candidate.lastIndexOf(':'));
  return isIP(candidate) === 0 ? undefined : normalizeIp(candidate);
}

/**
 * The `TRUSTED_PROXY_IPS` list (IPv4/IPv6 addresses and CIDR ranges, validated at boot) as a matcher backed by
 * Node's native {@link BlockList}.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly empty: boolean;

  constructor(entries: readonly string[]) {
    this.empty = entries.length === 0;
    for (const entry of entries) {
      const [address, bits] = entry.split('/');
      const normalized = normalizeIp(address);
      const family = isIP(normalized) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(normalized, family);
      else this.list.addSubnet(normalized, Number(bits), family);
    }
  }

  has(address: string): boolean {
    if (this.empty) return false;
    const family = isIP(address);
    if (family === 0) return false;
    return this.list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/**
 * The client's address (API.md §9): the socket peer, unless the peer is a trusted proxy; then `X-Forwarded-For` is
 * walked from right to left, skipping trusted hops, and the first untrusted hop is the client. A forged header from
 * an untrusted peer therefore changes nothing, and a client can't hide behind entries it prepends itself. When every
 * hop is trusted, the leftmost one is the client; when a trusted hop is followed by garbage, that trusted hop is.
 */
export function clientIp(request: ClientIpSource, trusted: TrustedProxies): string {
  const peer = normalizeIp(request.socket?.remoteAddress ?? '');
  if (peer === '' || !trusted.has(peer)) return peer || 'unknown';
  const header = request.headers['x-forwarded-for'];
  if (header === undefined) return peer;
  const hops = (Array.isArray(header) ? header.join(',') : header).split(',');
  let client = peer;
  for (let index = hops.length - 1; index >= 0; index--) {
    if (hops[index].trim() === '') continue;
    const hop = parseHop(hops[index]);
    if (hop === undefined) return client;
    client = hop;
    if (!trusted.has(hop)) return hop;
  }
  return client;
}
