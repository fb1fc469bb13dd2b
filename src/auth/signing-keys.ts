import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import jwksRsa from 'jwks-rsa';
import { APP_CONFIG, DEV_IDENTITY_PROVIDER, type InProcessIdentityProvider } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { IdentityProviderUnavailable, TokenRejected } from './auth-errors.js';

const KEY_TTL_MS = 10 * 60_000;

export type JwksFetchOutcome = 'ok' | 'not_found' | 'rate_limited' | 'error';

/**
 * The issuer's public keys, one parsed `KeyObject` per `kid` (parsing a PEM costs ~110 µs, so it happens once per
 * key, not per request). An unknown `kid` triggers one JWKS refetch, rate-limited by jwks-rsa. With the embedded dev
 * identity provider the keys are read in-process.
 */
@Injectable()
export class SigningKeyProvider {
  private readonly keys = new Map<string, { key: KeyObject; freshUntil: number }>();
  private readonly client: jwksRsa.JwksClient | null;
  /** Counts JWKS fetches by outcome (exported as `jwks_fetch_total`). */
  readonly fetches: Record<JwksFetchOutcome, number> = { ok: 0, not_found: 0, rate_limited: 0, error: 0 };

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(DEV_IDENTITY_PROVIDER) private readonly devIdentityProvider: InProcessIdentityProvider | null,
  ) {
    this.client = devIdentityProvider
      ? null
      : jwksRsa({
          jwksUri: config.jwksUri ?? `${config.oidcIssuer}/protocol/openid-connect/certs`,
          cache: false, // this class is the cache, of parsed keys
          rateLimit: true,
          jwksRequestsPerMinute: 10,
          timeout: 3000,
        });
  }

  async keyFor(kid: string | undefined): Promise<KeyObject> {
    const cacheKey = kid ?? '';
    const cached = this.keys.get(cacheKey);
    if (cached && cached.freshUntil > Date.now()) return cached.key;
    try {
      const key = await this.fetch(kid);
      this.keys.set(cacheKey, { key, freshUntil: Date.now() + KEY_TTL_MS });
      return key;
    } catch (error) {
      if (error instanceof TokenRejected) {
        this.keys.delete(cacheKey); // rotated out of the JWKS
        throw error;
      }
      if (cached) return cached.key; // the issuer is unreachable: keep trusting what it published before
      throw error;
    }
  }

  private async fetch(kid: string | undefined): Promise<KeyObject> {
    if (this.devIdentityProvider) {
      const jwks = this.devIdentityProvider.publicJwks().keys;
      const jwk = kid === undefined ? (jwks.length === 1 ? jwks[0] : undefined) : jwks.find((candidate) => candidate.kid === kid);
      if (!jwk) throw new TokenRejected('unknown_kid');
      return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    }
    try {
      const signingKey = await this.client!.getSigningKey(kid);
      this.fetches.ok++;
      return createPublicKey(signingKey.getPublicKey());
    } catch (error) {
      const name = (error as { name?: string }).name;
      if (name === 'SigningKeyNotFoundError') {
        this.fetches.not_found++;
        throw new TokenRejected('unknown_kid');
      }
      if (name === 'JwksRateLimitError') {
        this.fetches.rate_limited++;
        throw new TokenRejected('unknown_kid');
      }
      this.fetches.error++;
      throw new IdentityProviderUnavailable();
    }
  }
}
