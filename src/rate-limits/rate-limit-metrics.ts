import { Injectable } from '@nestjs/common';
import type { LimitName } from './rate-limits.policy.js';

/**
 * Counters of the rate limiter, read by the metrics exporter. Labels are limit names only — never a key, IP or
 * external user id.
 */
@Injectable()
export class RateLimitMetrics {
  /** `rate_limit_rejections` by limit name. */
  readonly rejections = new Map<LimitName, number>();
  /** Checks counted in this process because Redis was configured but unavailable (fail-open). */
  redisFallbacks = 0;

  rejected(limit: LimitName): void {
    this.rejections.set(limit, (this.rejections.get(limit) ?? 0) + 1);
  }
}
