import { DomainError } from '../common/domain-error.js';

export const NO_CREDENTIALS = 'Invalid authentication credentials';
export const BEARER_REQUIRED = 'This endpoint requires a bearer token.';
export const WRITE_SCOPE_REQUIRED = 'API key does not have the write scope.';
export const INVALID_TOKEN = 'Invalid token';
export const INVALID_SIGNATURE = 'Invalid token signature';
export const TOKEN_EXPIRED = 'Token has expired';
export const INVALID_AUDIENCE = 'Invalid audience';
export const IDP_UNAVAILABLE = 'Identity provider unavailable';

/** Why a bearer token was refused: its status and detail (API.md §1), and a metric label. */
export type TokenFailureReason = 'malformed' | 'signature' | 'expired' | 'audience' | 'issuer' | 'algorithm' | 'unknown_kid' | 'no_subject' | 'invalid';

export class TokenRejected extends Error {
  constructor(readonly reason: TokenFailureReason) {
    super(reason === 'signature' ? INVALID_SIGNATURE : reason === 'expired' ? TOKEN_EXPIRED : reason === 'audience' ? INVALID_AUDIENCE : INVALID_TOKEN);
    this.name = 'TokenRejected';
  }
  get status(): 401 | 403 {
    return this.reason === 'audience' ? 403 : 401;
  }
}

/** The issuer's keys could not be fetched (network error, 5xx): 503, never 500. */
export class IdentityProviderUnavailable extends Error {
  constructor() {
    super(IDP_UNAVAILABLE);
    this.name = 'IdentityProviderUnavailable';
  }
}

export function wwwAuthenticate(baseUrl: string, tokenError?: string): string {
  const base = `Bearer realm="questline", resource_metadata="${baseUrl}/.well-known/oauth-protected-resource"`;
  return tokenError ? `${base}, error="invalid_token", error_description="${tokenError}"` : base;
}

export function unauthorized(baseUrl: string, detail: string, tokenSent: boolean): DomainError {
  return new DomainError('unauthorized', detail, { headers: { 'WWW-Authenticate': wwwAuthenticate(baseUrl, tokenSent ? detail : undefined) } });
}
