import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { ApiKeyCache } from '../api-keys/api-key-cache.js';
import { AuthMetrics, type AuthMethod, type AuthOutcome } from '../auth/auth-metrics.js';
import { SigningKeyProvider } from '../auth/signing-keys.js';
import { DomainError } from '../common/domain-error.js';
import { RedisService } from '../common/redis.service.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { RateLimitMetrics } from '../rate-limits/rate-limit-metrics.js';
import { limitDefinitions, type LimitName } from '../rate-limits/rate-limits.policy.js';
import { PointsMetrics } from './points-metrics.js';

/** Label vocabularies exported at 0 from the start, so rates and ratios exist before the first event. */
const AUTH_OUTCOMES: Record<AuthMethod, AuthOutcome[]> = {
  api_key: ['ok', 'invalid', 'expired', 'inactive', 'forbidden'],
  bearer: ['ok', 'invalid', 'expired', 'forbidden'],
};
const TOKEN_FAILURE_REASONS = ['malformed', 'signature', 'expired', 'audience', 'issuer', 'algorithm', 'unknown_kid', 'no_subject', 'invalid', 'jwks_unavailable'];

/** Route label of requests that matched no route (404s of unknown paths): never the raw path. */
export const UNMATCHED_ROUTE = 'unmatched';

export const METRICS_TOKEN_REQUIRED = 'A valid metrics token is required.';

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * The Prometheus registry of this app instance (its own, not prom-client's global one, so several apps in one
 * process never share series). The pipeline's plain counters (auth, caches, JWKS, Redis, rate limits, awards) are
 * read at scrape time by collectors, so the hot paths only bump an integer.
 */
@Injectable()
export class MetricsService implements OnModuleInit {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  private readonly expectedToken: Buffer | null;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly adapterHost: HttpAdapterHost,
    auth: AuthMetrics,
    signingKeys: SigningKeyProvider,
    apiKeyCache: ApiKeyCache,
    redis: RedisService,
    points: PointsMetrics,
    rateLimits: RateLimitMetrics,
  ) {
    this.expectedToken = config.metricsToken ? digest(config.metricsToken) : null;
    const limitNames: LimitName[] = [...Object.values(limitDefinitions(config)).flatMap((definitions) => definitions.map((definition) => definition.name)), 'auth-failures'];
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration in seconds, by method, route template and status.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });

    new Counter({
      name: 'auth_attempts_total',
      help: 'Credential checks by method (api_key, bearer) and outcome.',
      labelNames: ['method', 'outcome'],
      registers,
      collect() {
        this.reset();
        for (const method of Object.keys(AUTH_OUTCOMES) as AuthMethod[]) {
          for (const outcome of AUTH_OUTCOMES[method]) this.inc({ method, outcome }, auth.attempts[method][outcome]);
        }
      },
    });
    new Counter({
      name: 'token_validation_failures_total',
      help: 'Bearer tokens refused, by reason.',
      labelNames: ['reason'],
      registers,
      collect() {
        this.reset();
        const reasons = new Set([...TOKEN_FAILURE_REASONS, ...auth.tokenFailures.keys()]);
        for (const reason of reasons) this.inc({ reason }, auth.tokenFailures.get(reason) ?? 0);
      },
    });
    new Counter({
      name: 'api_key_cache_total',
      help: 'API-key cache lookups by result.',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        this.inc({ result: 'hit' }, apiKeyCache.hits);
        this.inc({ result: 'miss' }, apiKeyCache.misses);
      },
    });
    new Counter({
      name: 'api_key_loads_total',
      help: 'API-key rows read from the database (concurrent misses of one key share one read).',
      registers,
      collect() {
        this.reset();
        this.inc(apiKeyCache.loads);
      },
    });
    new Counter({
      name: 'verified_token_cache_total',
      help: 'Verified-token cache lookups by result.',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        this.inc({ result: 'hit' }, auth.tokenCacheResults.hit);
        this.inc({ result: 'miss' }, auth.tokenCacheResults.miss);
      },
    });
    new Counter({
      name: 'rate_limit_rejections_total',
      help: 'Requests refused with 429, by the limit that answered.',
      labelNames: ['limit'],
      registers,
      collect() {
        this.reset();
        for (const limit of new Set([...limitNames, ...rateLimits.rejections.keys()])) this.inc({ limit }, rateLimits.rejections.get(limit) ?? 0);
      },
    });
    new Counter({
      name: 'points_awarded_total',
      help: 'Awards written by this instance.',
      registers,
      collect() {
        this.reset();
        this.inc(points.awards);
      },
    });
    new Counter({
      name: 'jwks_fetch_total',
      help: "The issuer's JWKS: fetches (ok, error) and tokens refused for an unknown key id (not_found: not published; rate_limited: refused without a fetch, the budget being spent).",
      labelNames: ['outcome'],
      registers,
      collect() {
        this.reset();
        for (const [outcome, count] of Object.entries(signingKeys.fetches)) this.inc({ outcome }, count);
      },
    });
    new Counter({
      name: 'redis_outages_total',
      help: 'Times the Redis connection was lost.',
      registers,
      collect() {
        this.reset();
        this.inc(redis.outages);
      },
    });
  }

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onResponse', (request, reply, done) => {
      this.httpDuration.observe(
        { method: request.method, route: request.routeOptions?.url ?? UNMATCHED_ROUTE, status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
      done();
    });
  }

  /** The exposition text; refused (401) without the right `METRICS_TOKEN` bearer when one is configured. */
  async scrape(authorization: string | undefined): Promise<{ contentType: string; body: string }> {
    if (this.expectedToken && !this.authorized(authorization)) {
      throw new DomainError('unauthorized', METRICS_TOKEN_REQUIRED, {
        headers: { 'WWW-Authenticate': 'Bearer realm="questline-metrics"' },
      });
    }
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private authorized(authorization: string | undefined): boolean {
    const match = /^Bearer (\S+)$/i.exec(authorization?.trim() ?? '');
    // Both sides are hashed first, so the comparison takes the same time whatever the length of what was sent.
    return match !== null && timingSafeEqual(digest(match[1]), this.expectedToken!);
  }
}
