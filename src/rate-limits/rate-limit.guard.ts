import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectThrottlerOptions, type ThrottlerModuleOptions, type ThrottlerOptions } from '@nestjs/throttler';
import { DomainError } from '../common/domain-error.js';
import { rejectUnreadableBody } from '../common/unreadable-body.js';
import { FixedWindowThrottlerStorage } from './fixed-window.storage.js';
import { retryAfterSeconds, type HitOutcome, type WindowCheck, type WindowCount } from './fixed-window.js';
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

/**
 * The route guard behind `@SensitiveTaskLimits()` and `@SimulationQuota()`. As a route guard it runs after the global
 * credentials guard and before any pipe, so it sits where API.md §2 puts limits: after credentials and key scope,
 * before validation (invalid bodies, replays and dry runs count). It counts the request against the policy's named
 * throttlers in table order in one storage call; the first limit that goes over answers 429 with its `detail` and
 * `Retry-After`. A request that passes gets the plain `X-RateLimit-*` headers of its tightest limit (the one with the
 * fewest requests left), not `@nestjs/throttler`'s per-name headers.
 */
@Injectable()
export class RateLimitGuard implements CanActivate {
  /** Per named throttler, how it finds the request's tracker and names its counter. */
  private readonly byName = new Map<string, Required<Pick<ThrottlerOptions, 'getTracker' | 'generateKey'>>>();

  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    private readonly counters: FixedWindowThrottlerStorage,
    private readonly reflector: Reflector,
    @Inject(RATE_LIMIT_SETTINGS) private readonly settings: RateLimitSettings,
    private readonly metrics: RateLimitMetrics,
  ) {
    const common = Array.isArray(options) ? {} : options;
    const throttlers = Array.isArray(options) ? options : options.throttlers;
    for (const throttler of throttlers) {
      const getTracker = throttler.getTracker ?? (common as ThrottlerOptions).getTracker;
      const generateKey = throttler.generateKey ?? (common as ThrottlerOptions).generateKey;
      if (throttler.name && getTracker && generateKey) this.byName.set(throttler.name, { getTracker, generateKey });
    }
  }

  /** Per route handler, its policy (read once: the metadata of a handler never changes). */
  private readonly policyOf = new Map<Function, RateLimitPolicy | null>();

  /**
   * Synchronous when the counters are in this process and the trackers answer at once (ours do), so a request that
   * passes costs no promise; with Redis (or a tracker that answers with a promise) it is awaited.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const req = context.switchToHttp().getRequest<{ body?: unknown }>();
    const policy = this.settings.enabled ? this.policyFor(context) : null;
    if (!policy) {
      rejectUnreadableBody(req.body); // no limit to count it: its 400/415 now (the credentials guard left it to us)
      return true;
    }

    const definitions = this.settings.policies[policy];
    const trackers: Array<string | Promise<string>> = [];
    let pending = false;
    for (let index = 0; index < definitions.length; index++) {
      // No throttler by that name, or an empty tracker: that limit does not apply to this request.
      const tracker = this.byName.get(definitions[index].name)?.getTracker(req, context) ?? '';
      if (typeof tracker !== 'string') pending = true;
      trackers.push(tracker);
    }
    if (pending) return Promise.all(trackers).then((resolved) => this.count(context, definitions, resolved, req.body));
    return this.count(context, definitions, trackers as string[], req.body);
  }

  /** Counts the request against every limit with a tracker, in order; see {@link decide}. */
  private count(context: ExecutionContext, definitions: LimitDefinition[], trackers: string[], body: unknown): boolean | Promise<boolean> {
    const limits: LimitDefinition[] = [];
    const checks: WindowCheck[] = [];
    for (let index = 0; index < definitions.length; index++) {
      const definition = definitions[index];
      const tracker = trackers[index];
      if (!tracker) continue;
      limits.push(definition);
      const key = this.byName.get(definition.name)!.generateKey(context, tracker, definition.name);
      checks.push({ key, limit: definition.limit, ttlMs: definition.ttlMs });
    }
    if (checks.length === 0) {
      rejectUnreadableBody(body);
      return true;
    }
    const reply = context.switchToHttp().getResponse<HeaderReply>();
    const outcome = this.counters.count(checks);
    if (outcome instanceof Promise) return outcome.then((counted) => this.decide(limits, counted, reply, body));
    return this.decide(limits, outcome, reply, body);
  }

  private policyFor(context: ExecutionContext): RateLimitPolicy | null {
    const handler = context.getHandler();
    let policy = this.policyOf.get(handler);
    if (policy === undefined) {
      policy = this.reflector.getAllAndOverride<RateLimitPolicy | undefined>(RATE_LIMIT_POLICY, [handler, context.getClass()]) ?? null;
      this.policyOf.set(handler, policy);
    }
    return policy;
  }

  /**
   * 429 for the first limit that went over; else the `X-RateLimit-*` headers of the tightest limit — and then a body
   * that could not be read is its 400/415 (counted, as API.md §9 wants of invalid bodies).
   */
  private decide(limits: LimitDefinition[], { counts, blocked }: HitOutcome, reply: HeaderReply, body: unknown): boolean {
    if (blocked >= 0) {
      const limit = limits[blocked];
      this.metrics.rejected(limit.name);
      const reset = retryAfterSeconds(counts[blocked].remainingMs);
      throw new DomainError('too_many_requests', limit.detail, {
        headers: { 'Retry-After': reset, ...rateLimitHeaders(limit.limit, counts[blocked], reset) },
      });
    }
    let tightest = 0;
    for (let index = 1; index < counts.length; index++) {
      if (limits[index].limit - counts[index].count < limits[tightest].limit - counts[tightest].count) tightest = index;
    }
    const headers = rateLimitHeaders(limits[tightest].limit, counts[tightest], retryAfterSeconds(counts[tightest].remainingMs));
    for (const name in headers) reply.header(name, headers[name]);
    rejectUnreadableBody(body);
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
