import { Injectable } from '@nestjs/common';

export type AuthMethod = 'api_key' | 'bearer';
export type AuthOutcome = 'ok' | 'invalid' | 'expired' | 'inactive' | 'forbidden';

const outcomeCounts = (): Record<AuthOutcome, number> => ({ ok: 0, invalid: 0, expired: 0, inactive: 0, forbidden: 0 });

/**
 * Counters of the auth pipeline. Labels are fixed vocabularies — never a token, key or subject. The metrics module
 * exports them to Prometheus.
 */
@Injectable()
export class AuthMetrics {
  /** Per method, per outcome: fixed keys (a `${method}:${outcome}` string per request cost a concat and a hash). */
  readonly attempts: Record<AuthMethod, Record<AuthOutcome, number>> = { api_key: outcomeCounts(), bearer: outcomeCounts() };
  readonly tokenFailures = new Map<string, number>();
  readonly tokenCacheResults = { hit: 0, miss: 0 };

  attempt(method: AuthMethod, outcome: AuthOutcome): void {
    this.attempts[method][outcome]++;
  }

  tokenFailure(reason: string): void {
    this.tokenFailures.set(reason, (this.tokenFailures.get(reason) ?? 0) + 1);
  }

  tokenCache(hit: boolean): void {
    this.tokenCacheResults[hit ? 'hit' : 'miss']++;
  }
}
