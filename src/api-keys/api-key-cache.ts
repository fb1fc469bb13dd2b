import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { setBounded } from '../common/bounded-map.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { RedisService } from '../common/redis.service.js';
import type { ApiKeyIdentity } from '../auth/auth-context.js';
import type { ApiKey } from './api-key.entity.js';

const CHANNEL = 'questline:api-key-invalidated';
const MAX_ENTRIES = 50_000;

/** What verification needs of a key's row, with its SHA-256 digests decoded once (not per request). */
export interface CachedApiKey extends Pick<ApiKey, 'id' | 'prefix' | 'previousValidUntil' | 'client' | 'scopes' | 'active' | 'expiresAt'> {
  secretDigest: Buffer;
  previousSecretDigest: Buffer | null;
  /** What a request authenticated with this key carries, built once (frozen: every such request shares it). */
  identity: ApiKeyIdentity;
}

/**
 * Keeps API-key rows (by prefix, misses included) for `API_KEY_CACHE_TTL_SECONDS`, so verification stays off the
 * database. Revocation and rotation drop the entry at once here and, through Redis, on every other instance.
 */
@Injectable()
export class ApiKeyCache implements OnModuleInit {
  private readonly entries = new Map<string, { row: CachedApiKey | null; until: number }>();
  private readonly ttlMs: number;
  /** Moves on every invalidation, so a load that started before one does not store what it read. */
  private generation = 0;
  hits = 0;
  misses = 0;
  /** Database loads (concurrent misses of one prefix share one). */
  loads = 0;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly redis: RedisService,
  ) {
    this.ttlMs = config.apiKeyCacheTtlSeconds * 1000;
  }

  onModuleInit() {
    this.redis.subscribe(CHANNEL, (prefix) => this.drop(prefix));
    // Invalidations published while this instance was cut off from Redis are lost: start afresh.
    this.redis.onReconnect(() => {
      this.generation++;
      this.entries.clear();
    });
  }

  /** The cached row (null = known not to exist), or undefined when it must be loaded. */
  get(prefix: string, now = Date.now()): CachedApiKey | null | undefined {
    const entry = this.entries.get(prefix);
    if (entry && entry.until > now) {
      this.hits++;
      return entry.row;
    }
    if (entry) this.entries.delete(prefix);
    this.misses++;
    return undefined;
  }

  /** The generation to hand back to {@link set} with what a load read. */
  get current(): number {
    return this.generation;
  }

  /** Stores a loaded row, unless an invalidation happened since the load began (`generation`). */
  set(prefix: string, row: CachedApiKey | null, generation: number): void {
    if (this.ttlMs === 0 || generation !== this.generation) return;
    setBounded(this.entries, prefix, { row, until: Date.now() + this.ttlMs }, MAX_ENTRIES);
  }

  /** Drops the entry here and on every instance sharing the Redis. */
  async invalidate(prefix: string): Promise<void> {
    this.drop(prefix);
    await this.redis.publish(CHANNEL, prefix);
  }

  private drop(prefix: string): void {
    this.generation++;
    this.entries.delete(prefix);
  }
}
