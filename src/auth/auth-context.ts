/** The API key a request authenticated with (never its secret). */
export interface ApiKeyIdentity {
  id: string;
  prefix: string;
  client: string;
  scopes: ApiKeyScope[];
  expiresAt: Date | null;
}

export type ApiKeyScope = 'read' | 'write';

/**
 * Who is calling, built by the credentials guard from every credential the request carries. Services take it as
 * their first argument and scope every query by it.
 */
export interface AuthContext {
  apiKey?: ApiKeyIdentity;
  /** The token subject (a string, never a database id). */
  oauthUserId?: string;
  isAdmin: boolean;
  /** Normalised role names from the token. */
  roles: string[];
  /** The verified token claims, when a bearer token was sent. */
  claims?: Record<string, unknown>;
  /** The request's correlation id, carried so audit entries can name the request. */
  correlationId?: string;
}

/** The owner of what a request writes: its API key when it has one, else its token subject (API.md §2). */
export interface Owner {
  apiKeyId: string | null;
  oauthUserId: string | null;
}

export function ownerOf(auth: AuthContext): Owner {
  if (auth.apiKey) return { apiKeyId: auth.apiKey.id, oauthUserId: null };
  return { apiKeyId: null, oauthUserId: auth.oauthUserId ?? null };
}
