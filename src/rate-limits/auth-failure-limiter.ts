import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { setBounded } from '../common/bounded-map.js';
import { DomainError } from '../common/domain-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { appLogger } from '../observability/logger.js';
import { TrustedProxies, type ClientIpSource } from './client-ip.js';
import { FixedWindowThrottlerStorage } from './fixed-window.storage.js';
import { fixedWindow, retryAfterSeconds, type HitOutcome } from './fixed-window.js';
import { RateLimitMetrics } from './rate-limit-metrics.js';
import { counterKey, ipTracker } from './trackers.js';

export const AUTH_FAILURES_DETAIL = 'Too many failed authentication attempts from this IP.';

/** Addresses tracked at once, at most (the oldest goes first; its shared counter keeps the count). */
const MAX_ADDRESSES = 100_000;
/** API-key prefixes remembered as verified here, at most, and for how long. */
const MAX_VERIFIED_KEYS = 100_000;
const VERIFIED_KEY_MEMORY_MS = 3_600_000;
const SWEEP_INTERVAL_MS = 30_000;

interface AddressState {
  /** Refusals counted in the window ending at `windowEnd`, as this instance last saw the (with Redis, shared) count. */
  refusals: number;
  windowEnd: number;
  /** Credentials from this address being checked right now (a database read, a signature check): each distinct one once, with its number of requests. */
  pending: Map<string, number>;
}

/** An unverified credential's check in progress; hand it back to {@link AuthFailureLimiter.finish}. */
export interface CredentialCheck {
  address: string;
  state: AddressState;
  credential: string;
}

/**
 * The per-address limit on refused credentials (`AUTH_FAILURE_LIMIT_PER_IP` per `RATE_LIMIT_WINDOW_SECONDS`). Anyone
 * can send keys with a valid checksum or tokens with a made-up `kid`, and each costs a database read or a signature
 * check (and a JWKS fetch); this bounds what one address can make the API do that way.
 *
 * Every refused API key or bearer token is counted against the client's address (the per-IP limit's address:
 * `TRUSTED_PROXY_IPS` decides; IPv6 per /64), in Redis when `REDIS_URL` is set. An address may have at most `limit`
 * refusals plus credentials still being checked: beyond that, until its window ends, a credential it sends that is not
 * already verified in this instance's caches is refused with `429` before any work — so a burst of concurrent made-up
 * keys gets no more database reads than a sequence. Exempt: an API key verified on this instance in the last hour
 * (its cache misses cost one read per cache TTL, and it can't be made up), so integrators sharing the address keep
 * working. Successful checks are never counted, and cached credentials never reach this class.
 */
@Injectable()
export class AuthFailureLimiter implements OnApplicationShutdown {
  /** Refusals allowed per window and address; 0 = off (also when `RATE_LIMITS_ENABLED=false`). */
  readonly limit: number;
  private readonly windowMs: number;
  private readonly trusted: TrustedProxies;
  private readonly addresses = new Map<string, AddressState>();
  /** API-key prefix → when it was last verified here. */
  private readonly verifiedKeys = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly counters: FixedWindowThrottlerStorage,
    private readonly metrics: RateLimitMetrics,
  ) {
    this.limit = config.rateLimitsEnabled ? config.authFailureLimitPerIp : 0;
    this.windowMs = config.rateLimitWindowSeconds * 1000;
    this.trusted = new TrustedProxies(config.trustedProxies);
  }

  /**
   * A credential not in the caches is about to be checked. Throws the `429` when its address has no checks left in
   * the window (unless `keyPrefix` names an API key verified here recently); else returns the check to
   * {@link finish}. Concurrent requests carrying the same credential share one place.
   */
  begin(request: ClientIpSource, credential: string, keyPrefix?: string | null): CredentialCheck | undefined {
    if (this.limit === 0) return undefined;
    const address = this.addressOf(request);
    const state = this.stateOf(address);
    const now = this.counters.now();
    const trusted = keyPrefix != null && (this.verifiedKeys.get(keyPrefix) ?? -Infinity) > now - VERIFIED_KEY_MEMORY_MS;
    const sharing = state.pending.get(credential);
    // A request joining a check of the same credential takes no new place, but an address over on refusals is refused.
    if (!trusted) this.assertOpen(state, now, sharing === undefined ? state.pending.size : 0);
    state.pending.set(credential, (sharing ?? 0) + 1);
    return { address, state, credential };
  }

  /** Ends a check {@link begin} let through; a refusal is counted (resolves once counted, never rejects). */
  finish(check: CredentialCheck | undefined, refused: boolean): void | Promise<void> {
    if (!check) return;
    const { state, credential } = check;
    const sharing = state.pending.get(credential) ?? 1;
    if (sharing <= 1) state.pending.delete(credential);
    else state.pending.set(credential, sharing - 1);
    if (refused) return this.count(check.address, state);
  }

  /** A credential refused without any work (its shape, its checksum, a cached row): the `429` when over, else counted. */
  refuse(request: ClientIpSource): void | Promise<void> {
    if (this.limit === 0) return;
    const address = this.addressOf(request);
    const state = this.stateOf(address);
    this.assertOpen(state, this.counters.now(), state.pending.size);
    return this.count(address, state);
  }

  /** Remembers an API key verified by a database read here (see {@link begin}). */
  keyVerified(prefix: string): void {
    if (this.limit === 0) return;
    this.verifiedKeys.delete(prefix);
    setBounded(this.verifiedKeys, prefix, this.counters.now(), MAX_VERIFIED_KEYS);
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Drops addresses whose window is over and that have nothing in flight, and keys not verified for an hour. */
  sweep(now = this.counters.now()): void {
    for (const [address, state] of this.addresses) if (state.windowEnd <= now && state.pending.size === 0) this.addresses.delete(address);
    for (const [prefix, at] of this.verifiedKeys) if (at <= now - VERIFIED_KEY_MEMORY_MS) this.verifiedKeys.delete(prefix);
  }

  /** Throws the `429` when the address's refusals in this window plus `inFlight` checks leave no room. */
  private assertOpen(state: AddressState, now: number, inFlight: number): void {
    const refusals = state.windowEnd > now ? state.refusals : 0;
    if (refusals + inFlight < this.limit) return;
    this.metrics.rejected('auth-failures');
    // Over on refusals: until the window ends. Only with checks still running: they end within moments.
    const retryAfterMs = refusals >= this.limit ? state.windowEnd - now : 1000;
    throw new DomainError('too_many_requests', AUTH_FAILURES_DETAIL, { headers: { 'Retry-After': retryAfterSeconds(retryAfterMs) } });
  }

  private count(address: string, state: AddressState): void | Promise<void> {
    const now = this.counters.now();
    // Windows are aligned to the clock: the window this refusal falls in ends here, however long the count takes.
    const windowEnd = now + fixedWindow(now, this.windowMs).remainingMs;
    const outcome = this.counters.count([{ key: counterKey('auth-failures', address), limit: this.limit, ttlMs: this.windowMs }]);
    if (outcome instanceof Promise) return outcome.then((counted) => this.counted(address, state, windowEnd, counted));
    this.counted(address, state, windowEnd, outcome);
  }

  private counted(address: string, state: AddressState, windowEnd: number, { counts }: HitOutcome): void {
    const count = counts[0].count;
    if (state.windowEnd === windowEnd) state.refusals = Math.max(state.refusals, count);
    else if (windowEnd > state.windowEnd) {
      state.windowEnd = windowEnd;
      state.refusals = count;
    }
    // Counters are atomic: exactly one refusal, on one instance, sees the count reach the limit.
    if (count === this.limit) {
      appLogger().warn(
        { component: 'auth', client: address, refusals: count, windowSeconds: this.windowMs / 1000 },
        'too many refused credentials from one address: until the window ends, its credentials not verified before are refused with 429',
      );
    }
  }

  private stateOf(address: string): AddressState {
    let state = this.addresses.get(address);
    if (!state) {
      state = { refusals: 0, windowEnd: 0, pending: new Map() };
      setBounded(this.addresses, address, state, MAX_ADDRESSES);
      if (!this.timer) {
        this.timer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
        this.timer.unref();
      }
    }
    return state;
  }

  private addressOf(request: ClientIpSource): string {
    return ipTracker(request, this.trusted);
  }
}
