import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { TokenRejected } from './auth-errors.js';
import { SigningKeyProvider } from './signing-keys.js';
import { normaliseRole, rolesOf, subjectOf } from './token-claims.js';

/** What a verified bearer token says about its caller. */
export interface OAuthIdentity {
  kind: 'oauth';
  subject: string;
  roles: string[];
  isAdmin: boolean;
  claims: Record<string, unknown>;
  expiresAtMs: number;
}

function headerOf(token: string): { alg?: unknown; kid?: unknown } | null {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as unknown;
    return header && typeof header === 'object' ? (header as { alg?: unknown; kid?: unknown }) : null;
  } catch {
    return null;
  }
}

/**
 * Bearer tokens: RS256 only, signature against the issuer's keys (one parsed key per `kid`), issuer, audience,
 * `exp` required, 30 s leeway by default.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  private readonly adminRole: string;
  private readonly clientId: string;

  constructor(@Inject(APP_CONFIG) config: AppConfig, keys: SigningKeyProvider) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (_request: unknown, rawToken: string, done: (error: unknown, key?: string | Buffer) => void) => {
        const header = headerOf(rawToken);
        if (!header) return done(new TokenRejected('malformed'));
        if (header.alg !== 'RS256') return done(new TokenRejected('algorithm'));
        if (header.kid !== undefined && typeof header.kid !== 'string') return done(new TokenRejected('malformed'));
        keys.keyFor(header.kid).then(
          (key) => done(null, key as unknown as Buffer), // jsonwebtoken accepts a KeyObject
          (error: unknown) => done(error),
        );
      },
      issuer: config.oidcIssuer,
      audience: config.keycloakAudience,
      algorithms: ['RS256'],
      jsonWebTokenOptions: { clockTolerance: config.jwtClockToleranceSeconds },
    });
    this.adminRole = normaliseRole(config.adminRole);
    this.clientId = config.keycloakClientId;
  }

  validate(payload: Record<string, unknown>): OAuthIdentity {
    if (typeof payload.exp !== 'number') throw new TokenRejected('invalid');
    const subject = subjectOf(payload);
    if (!subject) throw new TokenRejected('no_subject');
    // The subject is stored with everything its caller writes, and PostgreSQL text cannot hold U+0000.
    if (subject.includes('\u0000')) throw new TokenRejected('invalid');
    const roles = rolesOf(payload, this.clientId);
    return { kind: 'oauth', subject, roles, isAdmin: roles.includes(this.adminRole), claims: payload, expiresAtMs: payload.exp * 1000 };
  }
}

/** Maps what passport-jwt / jsonwebtoken report to API.md §1's reasons. */
export function tokenFailureOf(info: unknown): TokenRejected | unknown {
  if (info instanceof TokenRejected) return info;
  const error = info as { name?: string; message?: string } | undefined;
  switch (error?.name) {
    case 'TokenExpiredError':
      return new TokenRejected('expired');
    case 'JsonWebTokenError': {
      const message = error.message ?? '';
      if (message === 'invalid signature') return new TokenRejected('signature');
      if (message.startsWith('jwt audience invalid')) return new TokenRejected('audience');
      if (message.startsWith('jwt issuer invalid')) return new TokenRejected('issuer');
      if (message.includes('algorithm')) return new TokenRejected('algorithm');
      return new TokenRejected('malformed');
    }
    case 'NotBeforeError':
      return new TokenRejected('invalid');
    default:
      return info instanceof Error ? info : new TokenRejected('invalid');
  }
}
