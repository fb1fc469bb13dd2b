import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectThrottlerOptions, ThrottlerGuard, type ThrottlerModuleOptions, type ThrottlerOptions } from '@nestjs/throttler';
import { DomainError } from '../common/domain-error.js';
import { FixedWindowThrottlerStorage } from './fixed-window.storage.js';
import type { WindowCheck, WindowCount } from './fixed-window.js';
import { RateLimitMetrics } from './rate-limit-metrics.js';
import type { LimitDefinition, RateLimitPolicy } from './rate-limits.policy.js';

export const RATE_LIMIT_POLICY = 'questline:rate-limit-policy';
export const RATE_LIMIT_SETTINGS = Symbol('RATE_LIMIT_SETTINGS');

export interface RateLimitSettings {
  enabled: boolean;
  /** Per policy, the limits that are on (limit > 0), in order of precedence. */
  policies: Record<RateLimitPolicy, LimitDefinition[]>;
}

type HeaderReply = { header(name: string, value: string): unknown };

const seconds = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)));

/**
 * The route guard behind `@SensitiveTaskLimits()` and `@SimulationQuota()`. As a route guard it runs after the global
 * credentials guard and before any pipe, so it sits where API.md §2 puts limits: after credentials and key scope,
 * before validation (invalid bodies, replays and dry runs count). It counts the request against the policy's named
 * throttlers in table order in one storage call; the first limit that goes over answers 429 with its `detail` and
 * `Retry-After`. A request that passes gets the plain `X-RateLimit-*` headers of its tightest limit (the one with the
 * fewest requests left), not `@nestjs/throttler`'s per-name headers.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private byName?: Map<string, Required<Pick<ThrottlerOptions, 'getTracker' | 'generateKey'>>>;

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    private readonly counters: FixedWindowThrottlerStorage,
    reflector: Reflector,
    @Inject(RATE_LIMIT_SETTINGS) private readonly settings: RateLimitSettings,
    private readonly metrics: RateLimitMetrics,
  ) {
    super(options, counters, reflector);
  }

  override async onModuleInit(): Promise<void> {
    if (!this.settings.enabled) return;
    await super.onModuleInit();
    this.byName = new Map(
      this.throttlers.map((throttler) => [
        throttler.name!,
        {
          getTracker: throttler.getTracker ?? this.commonOptions.getTracker!,
          generateKey: throttler.generateKey ?? this.commonOptions.generateKey!,
        },
      ]),
    );
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.settings.enabled) return true;
    const policy = this.reflector.getAllAndOverride<RateLimitPolicy | undefined>(RATE_LIMIT_POLICY, [context.getHandler(), context.getClass()]);
    if (!policy) return true;
    if (!this.byName) await this.onModuleInit();

    const { req, res } = this.getRequestResponse(context);
    const limits: LimitDefinition[] = [];
    const checks: WindowCheck[] = [];
    for (const definition of this.settings.policies[policy]) {
      const throttler = this.byName!.get(definition.name);
      if (!throttler) continue;
      const tracker = await throttler.getTracker(req, context);
      if (!tracker) continue;
      limits.push(definition);
      checks.push({ key: throttler.generateKey(context, tracker, definition.name), limit: definition.limit, ttlMs: definition.ttlMs });
    }
    if (checks.length === 0) return true;

    const { counts, blocked } = await this.counters.hit(checks);
    if (blocked >= 0) {
      const limit = limits[blocked];
      this.metrics.rejected(limit.name);
      const reset = seconds(counts[blocked].remainingMs);
      throw new DomainError('too_many_requests', limit.detail, {
        headers: { 'Retry-After': reset, ...rateLimitHeaders(limit.limit, counts[blocked], reset) },
      });
    }

    let tightest = 0;
    for (let index = 1; index < counts.length; index++) {
      if (limits[index].limit - counts[index].count < limits[tightest].limit - counts[tightest].count) tightest = index;
    }
    const headers = rateLimitHeaders(limits[tightest].limit, counts[tightest], seconds(counts[tightest].remainingMs));
    for (const [name, value] of Object.entries(headers)) (res as HeaderReply).header(name, value);
    return true;
  }
}

function rateLimitHeaders(limit: number, count: WindowCount, reset: string): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(limit),
    'X-RateLimit-Remaining': String(Math.max(0, limit - count.count)),
    'X-RateLimit-Reset': reset,
  };
}
