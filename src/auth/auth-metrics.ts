import { Injectable } from '@nestjs/common';

export type AuthMethod = 'api_key' | 'bearer';
export type AuthOutcome = 'ok' | 'invalid' | 'expired' | 'inactive' | 'forbidden';

/**
 * Counters of the auth pipeline. Labels are fixed vocabularies — never a token, key or subject. The metrics module
 * exports them to Prometheus.
 */
@Injectable()
export class AuthMetrics {
  readonly attempts = new Map<string, number>();
  readonly tokenFailures = new Map<string, number>();
  readonly tokenCacheResults = { hit: 0, miss: 0 };

  attempt(method: AuthMethod, outcome: AuthOutcome): void {
    const key = `${method}:${outcome}`;
    this.attempts.set(key, (this.attempts.get(key) ?? 0) + 1);
  }

  tokenFailure(reason: string): void {
    this.tokenFailures.set(reason, (this.tokenFailures.get(reason) ?? 0) + 1);
  }

  tokenCache(hit: boolean): void {
    this.tokenCacheResults[hit ? 'hit' : 'miss']++;
  }
}
