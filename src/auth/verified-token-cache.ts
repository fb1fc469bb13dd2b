import { hash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { setBounded } from '../common/bounded-map.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import type { OAuthIdentity } from './jwt.strategy.js';

/**
 * Tokens already verified, keyed by their SHA-256, until their `exp` — so a client reusing its token pays the RSA
 * cost once. Bounded, least recently used first out.
 */
@Injectable()
export class VerifiedTokenCache {
  private readonly entries = new Map<string, { identity: OAuthIdentity; expiresAtMs: number }>();
  private readonly capacity: number;
  hits = 0;
  misses = 0;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.capacity = config.verifiedTokenCacheSize;
  }

  static keyOf(token: string): string {
    return hash('sha256', token, 'base64url');
  }

  get(key: string, now = Date.now()): OAuthIdentity | undefined {
    const entry = this.entries.get(key);
    if (!entry || entry.expiresAtMs <= now) {
      if (entry) this.entries.delete(key);
      this.misses++;
      return undefined;
    }
    this.entries.delete(key); // re-insert: most recently used last
    this.entries.set(key, entry);
    this.hits++;
    return entry.identity;
  }

  set(key: string, identity: OAuthIdentity, expiresAtMs: number): void {
    if (this.capacity === 0) return;
    setBounded(this.entries, key, { identity, expiresAtMs }, this.capacity);
  }
}
