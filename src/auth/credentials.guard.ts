import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import passport from 'passport';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { DomainError, forbidden } from '../common/domain-error.js';
import { ApiKeyRejected, ApiKeysService } from '../api-keys/api-keys.service.js';
import type { ApiKeyIdentity, AuthContext } from './auth-context.js';
import { ACCESS_RULE, ADMIN_FORBIDDEN_DETAIL, type AccessRule } from './auth.decorators.js';
import {
  BEARER_REQUIRED,
  IdentityProviderUnavailable,
  IDP_UNAVAILABLE,
  NO_CREDENTIALS,
  TokenRejected,
  unauthorized,
  WRITE_SCOPE_REQUIRED,
  wwwAuthenticate,
} from './auth-errors.js';
import { RATE_LIMIT_POLICY } from '../rate-limits/rate-limit.guard.js';
import { UnreadableBody } from '../common/unreadable-body.js';
import { tokenFailureOf, type OAuthIdentity } from './jwt.strategy.js';
import { OAuthUsersService } from './oauth-users.service.js';
import { VerifiedTokenCache } from './verified-token-cache.js';
import { AuthMetrics } from './auth-metrics.js';
import { AuthFailureLimiter, type CredentialCheck } from '../rate-limits/auth-failure-limiter.js';
import { prefixOfValidKey } from '../api-keys/api-key-format.js';

export type AuthenticatedRequest = FastifyRequest & { auth?: AuthContext };

interface StrategyOutcome<T> {
  error?: unknown;
  user?: T | false;
  info?: unknown;
}

/** Runs one registered passport strategy on the request and reports what it decided. */
function runStrategy<T>(name: string, request: FastifyRequest): Promise<StrategyOutcome<T>> {
  return new Promise((resolve) => {
    const middleware = passport.authenticate(name, { session: false }, (error: unknown, user: T | false, info: unknown) =>
      resolve({ error, user, info }),
    );
    middleware(request, {}, (error: unknown) => resolve({ error }));
  });
}

/** What a read-only key may do (API.md §1: any other method is a write). CORS preflights are answered before any guard. */
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * The one global guard (API.md §1). It checks each credential the request carries — the API key first (format,
 * checksum, cached row, hash, revocation, expiry: `ApiKeysService`), then the bearer token (the verified-token cache,
 * else passport-jwt) — and every credential sent must be valid (passport's own multi-strategy chain stops at the
 * first success, so it can't express this). It then applies the route's rule and the key's scope, and attaches one
 * {@link AuthContext}. Every refused credential is counted against the client's address ({@link AuthFailureLimiter});
 * from an address over that limit, only credentials already verified in the caches (or API keys verified here recently) are still checked.
 */
@Injectable()
export class CredentialsGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tokens: VerifiedTokenCache,
    private readonly oauthUsers: OAuthUsersService,
    private readonly metrics: AuthMetrics,
    private readonly apiKeys: ApiKeysService,
    private readonly failures: AuthFailureLimiter,
  ) {}

  /**
   * Synchronous for the common cases — a cached API key, a cached token of a known subject — so those requests wait on
   * no promise here; a key or token that must be loaded or verified first continues asynchronously.
   */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE, [context.getHandler(), context.getClass()]) ?? 'either';
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const auth: AuthContext = { isAdmin: false, roles: [], correlationId: String(request.id) };
    request.auth = auth; // every request let through has one (`@Auth()` hands it to handlers)
    if (rule === 'metrics') return true; // `/metrics` checks its own METRICS_TOKEN; no API credential is read

    const apiKeyHeader = request.headers['x-api-key'];
    if (apiKeyHeader !== undefined) {
      let identity: ApiKeyIdentity | undefined;
      try {
        identity = this.apiKeyFromCache(apiKeyHeader);
      } catch (error) {
        return this.refuse(request, error);
      }
      if (identity === undefined) {
        const header = apiKeyHeader as string;
        const prefix = prefixOfValidKey(header)!; // the shape was checked: a cache miss has a prefix
        const check = this.failures.begin(request, prefix, prefix); // before the database read
        return this.loadApiKey(header, check).then((loaded) => this.afterApiKey(context, rule, request, auth, loaded));
      }
      return this.afterApiKey(context, rule, request, auth, identity);
    }
    return this.afterApiKey(context, rule, request, auth, undefined);
  }

  /** The bearer token (if any), then the rule. */
  private afterApiKey(
    context: ExecutionContext,
    rule: AccessRule,
    request: AuthenticatedRequest,
    auth: AuthContext,
    apiKey: ApiKeyIdentity | undefined,
  ): boolean | Promise<boolean> {
    auth.apiKey = apiKey;
    const authorization = request.headers.authorization;
    if (authorization === undefined) return this.decide(context, rule, request, auth);
    let token: string;
    try {
      token = this.bearerToken(authorization);
    } catch (error) {
      return this.refuse(request, error);
    }
    const cacheKey = VerifiedTokenCache.keyOf(token);
    const cached = this.tokens.get(cacheKey);
    if (cached) {
      this.metrics.tokenCache(true);
      this.metrics.attempt('bearer', 'ok');
      return this.afterBearer(context, rule, request, auth, cached);
    }
    this.metrics.tokenCache(false);
    const check = this.failures.begin(request, cacheKey); // before the signature check (and any JWKS fetch)
    return this.verifyBearer(request, cacheKey, check).then((identity) => this.afterBearer(context, rule, request, auth, identity));
  }

  /** The token's identity on the context, its subject's row made sure of (once per instance), then the rule. */
  private afterBearer(
    context: ExecutionContext,
    rule: AccessRule,
    request: AuthenticatedRequest,
    auth: AuthContext,
    identity: OAuthIdentity,
  ): boolean | Promise<boolean> {
    auth.oauthUserId = identity.subject;
    auth.roles = identity.roles;
    auth.isAdmin = identity.isAdmin;
    auth.claims = identity.claims;
    if (this.oauthUsers.isKnown(identity.subject)) return this.decide(context, rule, request, auth);
    return this.oauthUsers.ensure(identity.subject, identity.claims, auth.correlationId).then(() => this.decide(context, rule, request, auth));
  }

  /**
   * The route's rule and the key's scope, once every credential sent has been checked; then a body that could not be
   * read is its `400`/`415` — unless the route is rate-limited, where the limits count it first and their guard answers.
   */
  private decide(context: ExecutionContext, rule: AccessRule, request: AuthenticatedRequest, auth: AuthContext): boolean {
    this.applyRule(context, rule, request, auth);
    const body = request.body;
    if (body instanceof UnreadableBody && !this.reflector.getAllAndOverride(RATE_LIMIT_POLICY, [context.getHandler(), context.getClass()])) {
      throw body.error;
    }
    return true;
  }

  private applyRule(context: ExecutionContext, rule: AccessRule, request: AuthenticatedRequest, auth: AuthContext): void {
    // Order of checks (API.md §2): the credentials the route accepts (401) before the key's scope (403).
    if (rule !== 'public') {
      if (!auth.apiKey && !auth.oauthUserId) throw unauthorized(this.config.publicUrl, NO_CREDENTIALS, false);
      if ((rule === 'oauth-only' || rule === 'admin-only') && !auth.oauthUserId) {
        throw unauthorized(this.config.publicUrl, BEARER_REQUIRED, false);
      }
    }
    if (auth.apiKey && !SAFE_METHODS.has(request.method) && !auth.apiKey.scopes.includes('write')) {
      this.metrics.attempt('api_key', 'forbidden');
      throw forbidden(WRITE_SCOPE_REQUIRED);
    }
    if (rule === 'admin-only' && !auth.isAdmin) {
      const detail = this.reflector.getAllAndOverride<string>(ADMIN_FORBIDDEN_DETAIL, [context.getHandler(), context.getClass()]);
      throw forbidden(detail);
    }
  }

  /** The key's identity when its row is cached, `undefined` when it must be loaded; a refused key throws. */
  private apiKeyFromCache(header: string | string[]): ApiKeyIdentity | undefined {
    if (typeof header !== 'string' || header.length === 0) {
      this.metrics.attempt('api_key', 'invalid');
      throw new ApiKeyRejected('invalid');
    }
    try {
      const identity = this.apiKeys.verifyCached(header);
      if (identity) this.metrics.attempt('api_key', 'ok');
      return identity;
    } catch (error) {
      throw this.apiKeyFailure(error);
    }
  }

  private async loadApiKey(header: string, check: CredentialCheck | undefined): Promise<ApiKeyIdentity> {
    let identity: ApiKeyIdentity;
    try {
      identity = await this.apiKeys.verifyUncached(header);
    } catch (error) {
      // Only a refused key counts against the address; a database outage passes through (the filter answers 503).
      await this.failures.finish(check, error instanceof ApiKeyRejected);
      throw this.apiKeyFailure(error);
    }
    this.failures.finish(check, false);
    this.failures.keyVerified(identity.prefix);
    this.metrics.attempt('api_key', 'ok');
    return identity;
  }

  /**
   * A credential refused without any work (its shape, its checksum, a cached miss or revoked row): `429` when the
   * client's address is over its limit of refused credentials, else the refusal, once counted against the address.
   */
  private refuse(request: FastifyRequest, error: unknown): never | Promise<never> {
    const refusal = error instanceof DomainError && (error.code === 'unauthorized' || error.code === 'forbidden');
    if (!refusal) throw error;
    const counted = this.failures.refuse(request);
    if (counted) {
      return counted.then(() => {
        throw error;
      });
    }
    throw error;
  }

  private apiKeyFailure(error: unknown): unknown {
    if (error instanceof ApiKeyRejected) {
      this.metrics.attempt('api_key', error.reason === 'invalid' ? 'invalid' : error.reason === 'expired' ? 'expired' : 'inactive');
    }
    return error;
  }

  private bearerToken(header: string): string {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
    if (!match) throw this.tokenError(new TokenRejected('malformed'));
    return match[1];
  }

  /** A token not in the cache: passport-jwt verifies it (signature over the issuer's JWKS, issuer, audience, expiry). */
  private async verifyBearer(request: FastifyRequest, cacheKey: string, check: CredentialCheck | undefined): Promise<OAuthIdentity> {
    const outcome = await runStrategy<OAuthIdentity>('jwt', request).catch((error: unknown): StrategyOutcome<OAuthIdentity> => ({ error }));
    if (outcome.user) {
      this.failures.finish(check, false);
      this.tokens.set(cacheKey, outcome.user, outcome.user.expiresAtMs);
      this.metrics.attempt('bearer', 'ok');
      return outcome.user;
    }
    const failure = tokenFailureOf(outcome.error ?? outcome.info);
    // Only a refused token counts against the address, not an identity provider that can't be reached.
    await this.failures.finish(check, failure instanceof TokenRejected);
    if (failure instanceof IdentityProviderUnavailable) {
      this.metrics.tokenFailure('jwks_unavailable');
      throw new DomainError('unavailable', IDP_UNAVAILABLE, { headers: { 'Retry-After': '10' } });
    }
    if (failure instanceof TokenRejected) throw this.tokenError(failure);
    throw failure;
  }

  private tokenError(failure: TokenRejected): DomainError {
    this.metrics.tokenFailure(failure.reason);
    this.metrics.attempt('bearer', failure.reason === 'expired' ? 'expired' : failure.reason === 'audience' ? 'forbidden' : 'invalid');
    if (failure.status === 403) return forbidden(failure.message);
    return new DomainError('unauthorized', failure.message, {
      headers: { 'WWW-Authenticate': wwwAuthenticate(this.config.publicUrl, failure.message) },
    });
  }
}
