import { Global, Module } from '@nestjs/common';
import { ThrottlerModule, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { TrustedProxies } from './client-ip.js';
import { FixedWindowThrottlerStorage } from './fixed-window.storage.js';
import { RATE_LIMIT_SETTINGS, RateLimitGuard, type RateLimitSettings } from './rate-limit.guard.js';
import { RateLimitMetrics } from './rate-limit-metrics.js';
import { limitDefinitions, type RateLimitPolicy } from './rate-limits.policy.js';
import { counterKey, trackerFor } from './trackers.js';

/**
 * The counters, their metrics and the limit on failed credential checks (which the global credentials guard uses), on
 * their own so the throttler options factory can inject the storage.
 */
@Global()
@Module({
  providers: [RateLimitMetrics, FixedWindowThrottlerStorage, AuthFailureLimiter],
  exports: [RateLimitMetrics, FixedWindowThrottlerStorage, AuthFailureLimiter],
})
export class RateLimitStorageModule {}

export function rateLimitSettings(config: AppConfig): RateLimitSettings {
  const all = limitDefinitions(config);
  const on = (policy: RateLimitPolicy) => all[policy].filter((definition) => definition.limit > 0);
  return { enabled: config.rateLimitsEnabled, policies: { 'sensitive-task': on('sensitive-task'), simulation: on('simulation') } };
}

/** One named throttler per limit that is on, each with its own tracker; counters shared across the routes of a policy. */
export function throttlerOptions(config: AppConfig, storage: FixedWindowThrottlerStorage): ThrottlerModuleOptions {
  const trusted = new TrustedProxies(config.trustedProxies);
  const settings = rateLimitSettings(config);
  const definitions = settings.enabled ? [...settings.policies['sensitive-task'], ...settings.policies.simulation] : [];
  return {
    storage,
    generateKey: (_context, tracker, name) => counterKey(name, tracker),
    throttlers: definitions.map((definition) => ({
      name: definition.name,
      limit: definition.limit,
      ttl: definition.ttlMs,
      getTracker: trackerFor(definition.tracker, trusted),
    })),
  };
}

/**
 * Rate limits and quotas (API.md §9). Global, so `@SensitiveTaskLimits()` / `@SimulationQuota()` work on any
 * feature module's controller.
 */
@Global()
@Module({
  imports: [
    RateLimitStorageModule,
    ThrottlerModule.forRootAsync({
      imports: [RateLimitStorageModule],
      inject: [APP_CONFIG, FixedWindowThrottlerStorage],
      useFactory: throttlerOptions,
    }),
  ],
  providers: [{ provide: RATE_LIMIT_SETTINGS, inject: [APP_CONFIG], useFactory: rateLimitSettings }, RateLimitGuard],
  exports: [RATE_LIMIT_SETTINGS, RateLimitGuard],
})
export class RateLimitsModule {}
