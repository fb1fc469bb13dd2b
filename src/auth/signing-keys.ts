import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import jwksRsa from 'jwks-rsa';
import { setBounded } from '../common/bounded-map.js';
import { Clock } from '../common/clock.js';
import { APP_CONFIG, DEV_IDENTITY_PROVIDER, type InProcessIdentityProvider } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { IdentityProviderUnavailable, TokenRejected } from './auth-errors.js';

/** The published keys are read again this often, so a key the issuer withdrew stops being trusted. */
export const JWKS_REFRESH_MS = 10 * 60_000;
/** After a refresh failed, the keys already held are used without asking again for this long. */
export const JWKS_RETRY_MS = 30_000;
/** Fetches an unknown `kid` may cause, per minute and instance (what jwks-rsa's own limiter allowed). */
export const UNKNOWN_KID_FETCHES_PER_MINUTE = 10;
/** A `kid` a fetch just showed to be unpublished is refused without another fetch for this long. */
export const UNKNOWN_KID_MEMORY_MS = 60_000;
const UNKNOWN_KID_MEMORY_SIZE = 1_000;

export type JwksFetchOutcome = 'ok' | 'not_found' | 'rate_limited' | 'error';

interface KeySet {
  /** Parsed keys by `kid` (parsing a PEM costs ~110 µs: once per key, not per request). */
  byKid: Map<string, KeyObject>;
  /** The one key of a JWKS that has exactly one, for tokens without a `kid`. */
  only: KeyObject | undefined;
}

/**
 * The issuer's public keys: the whole JWKS, fetched at once and parsed once per key. With the embedded dev identity
 * provider it is read in-process.
 *
 * Nothing a caller sends can take away a key already held. An unknown `kid` in an unverified token causes at most one
 * fetch (remembered as unpublished for a minute after), within a budget of 10 such fetches a minute — beyond it the
 * token is refused without one (API.md §1: `Invalid token`, also while refreshes are being rate-limited). The keys held
 * are re-read every 10 minutes outside that budget, and a refresh that fails keeps them (an outage does not log
 * everyone out). Every fetch replaces the whole set, so one fetch also brings every newly rotated-in key, whoever
 * caused it. Concurrent requests share one fetch.
 */
@Injectable()
export class SigningKeyProvider {
  private readonly client: jwksRsa.JwksClient | null;
  private keys: KeySet | null = null;
  /** When the held keys were fetched, and when a fetch last failed. */
  private fetchedAt = -Infinity;
  private failedAt = -Infinity;
  private inFlight: Promise<KeySet> | null = null;
  /** Start times of the fetches unknown `kid`s caused in the last minute. */
  private unknownKidFetches: number[] = [];
  /** `kid`s a fetch showed to be unpublished, until when they are refused without one. */
  private readonly unpublished = new Map<string, number>();
  /** Counts JWKS fetches by outcome (exported as `jwks_fetch_total`); `rate_limited` counts refusals without a fetch. */
  readonly fetches: Record<JwksFetchOutcome, number> = { ok: 0, not_found: 0, rate_limited: 0, error: 0 };

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(DEV_IDENTITY_PROVIDER) private readonly devIdentityProvider: InProcessIdentityProvider | null,
    private readonly clock: Clock,
  ) {
    this.client = devIdentityProvider
      ? null
      : jwksRsa({
          jwksUri: config.jwksUri ?? `${config.oidcIssuer}/protocol/openid-connect/certs`,
          cache: false, // this class is the cache, of parsed keys
          rateLimit: false, // and the limiter: refreshes of the held keys must not share a budget callers can spend
          timeout: 3000,
        });
  }

  async keyFor(kid: string | undefined): Promise<KeyObject> {
    const now = this.clock.now().getTime();
    let keys = this.keys;
    let refreshed = false;
    if (keys && now - this.fetchedAt >= JWKS_REFRESH_MS && now - this.failedAt >= JWKS_RETRY_MS) {
      try {
        keys = await this.fetchShared(now);
        refreshed = true;
      } catch {
        // a failed refresh keeps the keys held
      }
    }
    const found = keys && keyOf(keys, kid);
    if (found) return found;
    if (refreshed) return this.unpublishedKid(kid, now); // the set was just read: no second fetch

    // Not held: one fetch may bring it — unless a fetch showed it unpublished lately, or the budget is spent.
    const refusedUntil = this.unpublished.get(kid ?? '');
    if (refusedUntil !== undefined && refusedUntil > now) {
      this.fetches.not_found++;
      throw new TokenRejected('unknown_kid');
    }
    if (this.inFlight === null) {
      this.unknownKidFetches = this.unknownKidFetches.filter((at) => at <= now && now - at < 60_000);
      if (this.unknownKidFetches.length >= UNKNOWN_KID_FETCHES_PER_MINUTE) {
        this.fetches.rate_limited++;
        // With no key held and the issuer failing lately, say so rather than blame the token.
        if (this.keys === null && now - this.failedAt < 60_000) throw new IdentityProviderUnavailable();
        throw new TokenRejected('unknown_kid');
      }
      this.unknownKidFetches.push(now);
    }
    const fetched = await this.fetchShared(now);
    return keyOf(fetched, kid) ?? this.unpublishedKid(kid, now);
  }

  /** Refuses a `kid` the JWKS just read does not hold, and remembers it for a minute. */
  private unpublishedKid(kid: string | undefined, now: number): never {
    this.fetches.not_found++;
    setBounded(this.unpublished, kid ?? '', now + UNKNOWN_KID_MEMORY_MS, UNKNOWN_KID_MEMORY_SIZE);
    throw new TokenRejected('unknown_kid');
  }

  /** One fetch of the whole JWKS for every request that needs one meanwhile; it replaces the held keys. */
  private fetchShared(now: number): Promise<KeySet> {
    this.inFlight ??= this.fetch()
      .then(
        (keys) => {
          this.fetches.ok++;
          this.keys = keys;
          this.fetchedAt = now; // a kid remembered as unpublished but in this set is held now, and held keys come first
          return keys;
        },
        (error: unknown) => {
          this.fetches.error++;
          this.failedAt = now;
          throw error;
        },
      )
      .finally(() => {
        this.inFlight = null;
      });
    return this.inFlight;
  }

  private async fetch(): Promise<KeySet> {
    if (this.devIdentityProvider) {
      const jwks = this.devIdentityProvider.publicJwks().keys;
      return keySetOf(jwks.map((jwk) => [typeof jwk.kid === 'string' ? jwk.kid : undefined, createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' })]));
    }
    try {
      const signingKeys = await this.client!.getSigningKeys();
      return keySetOf(signingKeys.map((key) => [key.kid, createPublicKey(key.getPublicKey())]));
    } catch {
      throw new IdentityProviderUnavailable(); // unreachable, an error status, or a JWKS without signing keys
    }
  }
}

function keySetOf(entries: Array<[string | undefined, KeyObject]>): KeySet {
  const byKid = new Map<string, KeyObject>();
  for (const [kid, key] of entries) if (kid !== undefined) byKid.set(kid, key);
  return { byKid, only: entries.length === 1 ? entries[0][1] : undefined };
}

function keyOf(keys: KeySet, kid: string | undefined): KeyObject | undefined {
  return kid === undefined ? keys.only : keys.byKid.get(kid);
}
