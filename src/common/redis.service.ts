import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { appLogger } from '../observability/logger.js';

type Listener = (message: string) => void;

/**
 * The shared Redis (when `REDIS_URL` is set): throttler counters and cross-instance cache invalidation. Commands
 * never queue or wait while Redis is away (`enableOfflineQueue: false`, short timeouts), so callers fail open.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly client: Redis | null;
  private readonly subscriber: Redis | null;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly reconnectListeners = new Set<() => void>();
  private down = false;
  /** How many times the connection was lost since start (also exported as a metric). */
  outages = 0;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    if (!config.redisUrl) {
      this.client = null;
      this.subscriber = null;
      return;
    }
    const common = {
      connectTimeout: 1000,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt: number) => Math.min(100 * attempt, 2000),
      lazyConnect: false,
    };
    this.client = new Redis(config.redisUrl, { ...common, enableOfflineQueue: false, commandTimeout: 250, connectionName: 'questline' });
    this.subscriber = new Redis(config.redisUrl, { ...common, enableOfflineQueue: true, connectionName: 'questline-sub' });
    this.client.on('error', () => this.markDown());
    this.client.on('close', () => this.markDown());
    this.client.on('ready', () => this.markUp());
    this.subscriber.on('error', () => undefined); // reported through the command connection
    this.subscriber.on('ready', () => {
      for (const listener of this.reconnectListeners) listener();
    });
    this.subscriber.on('message', (channel: string, message: string) => {
      for (const listener of this.listeners.get(channel) ?? []) listener(message);
    });
  }

  get enabled(): boolean {
    return this.client !== null;
  }

  /** True when commands can be sent now. */
  get ready(): boolean {
    return this.client?.status === 'ready';
  }

  private markDown() {
    if (this.down || !this.client) return;
    this.down = true;
    this.outages++;
    appLogger().error({ component: 'redis' }, 'Redis is unreachable: rate limits are counted per instance and key revocations reach other instances within the cache TTL until it returns');
  }

  private markUp() {
    if (!this.down) return;
    this.down = false;
    appLogger().warn({ component: 'redis' }, 'Redis is reachable again: shared limits and invalidation resumed');
  }

  /** Publishes to every instance; false when Redis is off or unreachable. */
  async publish(channel: string, message: string): Promise<boolean> {
    if (!this.client || !this.ready) return false;
    try {
      await this.client.publish(channel, message);
      return true;
    } catch {
      this.markDown();
      return false;
    }
  }

  subscribe(channel: string, listener: Listener): void {
    if (!this.subscriber) return;
    let set = this.listeners.get(channel);
    if (!set) {
      set = new Set();
      this.listeners.set(channel, set);
      this.subscriber.subscribe(channel).catch(() => undefined); // re-subscribed automatically on reconnect
    }
    set.add(listener);
  }

  /** Called each time the subscriber (re)connects: messages sent while it was away are lost. */
  onReconnect(listener: () => void): void {
    this.reconnectListeners.add(listener);
  }

  async onApplicationShutdown(): Promise<void> {
    this.client?.disconnect();
    this.subscriber?.disconnect();
  }
}
