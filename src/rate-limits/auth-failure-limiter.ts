import { Inject, Injectable } from '@nestjs/common';
import { normalizeIp as ipv6Subnet } from '@nestjs/throttler';
import { setBounded } from '../common/bounded-map.js';
import { DomainError } from '../common/domain-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { appLogger } from '../observability/logger.js';
import { clientIp, TrustedProxies, type ClientIpSource } from './client-ip.js';
import { FixedWindowThrottlerStorage } from './fixed-window.storage.js';
import type { HitOutcome } from './fixed-window.js';
import { RateLimitMetrics } from './rate-limit-metrics.js';
import { counterKey } from './trackers.js';

export const AUTH_FAILURES_DETAIL = 'Too many failed authentication attempts from this IP.';

/** Addresses remembered as blocked at once, at most (the oldest goes first; its counter still holds the count). */
const MAX_BLOCKED = 100_000;

/**
 * The per-IP limit on failed credential checks (`AUTH_FAILURE_LIMIT_PER_IP` per `RATE_LIMIT_WINDOW_SECONDS`). Anyone
 * can send keys with a valid checksum or tokens with a made-up `kid`, and each costs a database read or a signature
 * check (and a JWKS fetch); this bounds what one address can make the API do that way.
 *
 * Every refused API key or bearer token is counted against the client's address (the same address the per-IP limit
 * uses: `TRUSTED_PROXY_IPS` decides; IPv6 per /64), in Redis when `REDIS_URL` is set. Once an address reaches the limit,
 * until its window ends, a request from it is answered `429` before any credential it carries is checked — unless
 * every credential it carries is already verified in this instance's caches (a valid cached key, a cached token), which
 * costs nothing: an integrator sharing the address keeps working. Successful checks are never counted and cost no
 * counter lookup; the "blocked" state is a map lookup in this process, set when this instance counts the failure that
 * reaches the limit (with Redis, other instances learn it at their own next failure from that address).
 */
@Injectable()
export class AuthFailureLimiter {
  /** Failures allowed per window and address; 0 = off (also when `RATE_LIMITS_ENABLED=false`). */
  readonly limit: number;
  private readonly windowMs: number;
  private readonly trusted: TrustedProxies;
  /** Address → end of the window in which it reached the limit (epoch ms). */
  private readonly blockedUntil = new Map<string, number>();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly counters: FixedWindowThrottlerStorage,
    private readonly metrics: RateLimitMetrics,
  ) {
    this.limit = config.rateLimitsEnabled ? config.authFailureLimitPerIp : 0;
    this.windowMs = config.rateLimitWindowSeconds * 1000;
    this.trusted = new TrustedProxies(config.trustedProxies);
  }

  /** Throws the `429` when the request's address has reached the limit in the current window. */
  assertAllowed(request: ClientIpSource): void {
    if (this.limit === 0 || this.blockedUntil.size === 0) return;
    const address = this.addressOf(request);
    const until = this.blockedUntil.get(address);
    if (until === undefined) return;
    const now = this.counters.now();
    if (until <= now) {
      this.blockedUntil.delete(address);
      return;
    }
    this.metrics.rejected('auth-failures');
    throw new DomainError('too_many_requests', AUTH_FAILURES_DETAIL, { headers: { 'Retry-After': String(Math.max(1, Math.ceil((until - now) / 1000))) } });
  }

  /**
   * Counts one refused credential against the request's address; resolves once counted (so the next request from the
   * address already sees the block). Never rejects: counting falls back to this process when Redis fails.
   */
  recordFailure(request: ClientIpSource): void | Promise<void> {
    if (this.limit === 0) return;
    const address = this.addressOf(request);
    const outcome = this.counters.count([{ key: counterKey('auth-failures', address), limit: this.limit, ttlMs: this.windowMs }]);
    if (outcome instanceof Promise) return outcome.then((counted) => this.afterCount(address, counted));
    this.afterCount(address, outcome);
  }

  private afterCount(address: string, { counts }: HitOutcome): void {
    const { count, remainingMs } = counts[0];
    if (count < this.limit) return;
    const firstHere = !this.blockedUntil.has(address);
    setBounded(this.blockedUntil, address, this.counters.now() + remainingMs, MAX_BLOCKED);
    if (firstHere && count === this.limit) {
      appLogger().warn(
        { component: 'auth', client: address, failures: count, windowSeconds: this.windowMs / 1000 },
        'too many failed credential checks from one address: unverified credentials from it are refused with 429 until the window ends',
      );
    }
  }

  private addressOf(request: ClientIpSource): string {
    return `ip:${ipv6Subnet(clientIp(request, this.trusted), 64)}`;
  }
}
