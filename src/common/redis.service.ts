import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Redis, ReplyError } from 'ioredis';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { appLogger } from '../observability/logger.js';

type Listener = (message: string) => void;

/** How long a command may take before the caller stops waiting and fails open. */
export const REDIS_COMMAND_TIMEOUT_MS = 250;

export class RedisUnavailableError extends Error {
  constructor(reason: string) {
    super(`Redis unavailable: ${reason}`);
    this.name = 'RedisUnavailableError';
  }
}

/**
 * `promise`, or a rejection once `ms` have passed — but only after this process has had one more chance to read the
 * replies already waiting on its sockets. Node runs due timers before it polls for I/O, so under a burst that keeps
 * the event loop busy for longer than `ms`, a plain timer (like ioredis' `commandTimeout`) fires before the answer
 * that arrived long ago is read, and a busy instance would mistake itself for a Redis outage (and count limits
 * alone). `setImmediate` runs after the next poll phase, when those replies have been delivered.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(
      () =>
        setImmediate(() => {
          if (settled) return;
          settled = true;
          reject(new RedisUnavailableError(`no answer within ${ms} ms`));
        }),
      ms,
    );
    promise.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/**
 * The shared Redis (when `REDIS_URL` is set): throttler counters and cross-instance cache invalidation. Commands
 * never queue or wait while Redis is away (`enableOfflineQueue: false`, and {@link command}'s short deadline), so
 * callers fail open.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly client: Redis | null;
  private readonly subscriber: Redis | null;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly reconnectListeners = new Set<() => void>();
  private down = false;
  private stopping = false;
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
    // No `commandTimeout`: `command()` applies a deadline that tells a slow Redis from a busy event loop.
    // Nor are commands that got no answer resent after a reconnect: a late counter increment or publish is stale.
    this.client = new Redis(config.redisUrl, { ...common, enableOfflineQueue: false, autoResendUnfulfilledCommands: false, connectionName: 'questline' });
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
    if (this.down || !this.client || this.stopping) return;
    this.down = true;
    this.outages++;
    appLogger().error({ component: 'redis' }, 'Redis is unreachable: rate limits are counted per instance and key revocations reach other instances within the cache TTL until it returns');
  }

  private markUp() {
    if (!this.down) return;
    this.down = false;
    appLogger().warn({ component: 'redis' }, 'Redis is reachable again: shared limits and invalidation resumed');
  }

  /**
   * Runs one command with a deadline of {@link REDIS_COMMAND_TIMEOUT_MS}; rejects at once when Redis is off or not
   * connected. A failure while the connection looked ready (a timeout, e.g. a network partition without a FIN) is
   * reported like a lost connection, once per outage; a success ends such an outage.
   */
  async command<T>(run: (client: Redis) => Promise<T>): Promise<T> {
    if (!this.client || !this.ready) throw new RedisUnavailableError(this.client ? 'not connected' : 'not configured');
    try {
      const result = await withDeadline(run(this.client), REDIS_COMMAND_TIMEOUT_MS);
      if (this.down) this.markUp();
      return result;
    } catch (error) {
      if (!(error instanceof ReplyError)) this.markDown(); // an error reply comes from a Redis that is up
      throw error;
    }
  }

  /** Publishes to every instance; false when Redis is off or unreachable. */
  async publish(channel: string, message: string): Promise<boolean> {
    try {
      await this.command((client) => client.publish(channel, message));
      return true;
    } catch {
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
    this.stopping = true; // closing our own connections is no outage
    this.client?.disconnect();
    this.subscriber?.disconnect();
  }
}
