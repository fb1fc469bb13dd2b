import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { RedisService } from '../common/redis.service.js';
import type { ApiKey } from './api-key.entity.js';

const CHANNEL = 'questline:api-key-invalidated';
const MAX_ENTRIES = 50_000;

export type CachedApiKey = Pick<
  ApiKey,
  'id' | 'prefix' | 'secretHash' | 'previousSecretHash' | 'previousValidUntil' | 'client' | 'scopes' | 'active' | 'expiresAt'
>;

/**
 * Keeps API-key rows (by prefix, misses included) for `API_KEY_CACHE_TTL_SECONDS`, so verification stays off the
 * database. Revocation and rotation drop the entry at once here and, through Redis, on every other instance.
 */
@Injectable()
export class ApiKeyCache implements OnModuleInit {
  private readonly entries = new Map<string, { row: CachedApiKey | null; until: number }>();
  private readonly ttlMs: number;
  hits = 0;
  misses = 0;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly redis: RedisService,
  ) {
    this.ttlMs = config.apiKeyCacheTtlSeconds * 1000;
  }

  onModuleInit() {
    this.redis.subscribe(CHANNEL, (prefix) => this.entries.delete(prefix));
    // Invalidations published while this instance was cut off from Redis are lost: start afresh.
    this.redis.onReconnect(() => this.entries.clear());
  }

  /** The cached row (null = known not to exist), or undefined when it must be loaded. */
  get(prefix: string): CachedApiKey | null | undefined {
    const entry = this.entries.get(prefix);
    if (entry && entry.until > Date.now()) {
      this.hits++;
      return entry.row;
    }
    if (entry) this.entries.delete(prefix);
    this.misses++;
    return undefined;
  }

  set(prefix: string, row: CachedApiKey | null): void {
    if (this.ttlMs === 0) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(prefix, { row, until: Date.now() + this.ttlMs });
  }

  /** Drops the entry here and on every instance sharing the Redis. */
  async invalidate(prefix: string): Promise<void> {
    this.entries.delete(prefix);
    await this.redis.publish(CHANNEL, prefix);
  }
}
