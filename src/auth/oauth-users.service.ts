import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';

const KNOWN_SUBJECTS_MAX = 100_000;

/**
 * Creates the `oauth_users` row and its one audit entry ("OAuth user bootstrapped") for the first valid token of
 * a subject — in one statement, so concurrent first requests create exactly one of each. Subjects already seen
 * by this instance skip the database.
 */
@Injectable()
export class OAuthUsersService {
  private readonly known = new Set<string>();

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Whether this instance has already made sure the subject's row exists. */
  isKnown(subject: string): boolean {
    return this.known.has(subject);
  }

  async ensure(subject: string, claims: Record<string, unknown>, correlationId?: string): Promise<void> {
    if (this.known.has(subject)) return;
    const text = (value: unknown) => (typeof value === 'string' && value.length <= 320 && !value.includes('\u0000') ? value : null);
    await this.dataSource.query(
      `WITH created AS (
         INSERT INTO oauth_users (subject, preferred_username, email, issuer)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (subject) DO NOTHING
         RETURNING id, subject)
       INSERT INTO audit_logs (level, module, message, details, oauth_user_id, correlation_id)
       SELECT 'INFO', 'auth', 'OAuth user bootstrapped', jsonb_build_object('oauthUserId', subject, 'id', id), subject, $5
       FROM created`,
      [subject, text(claims.preferred_username), text(claims.email), this.config.oidcIssuer, correlationId ?? null],
    );
    if (this.known.size >= KNOWN_SUBJECTS_MAX) this.known.clear();
    this.known.add(subject);
  }
}
