import type { TestApp } from './app.js';

/** A real access token from the app's embedded dev identity provider (same claims as its password grant). */
export async function userToken(t: TestApp, username: string): Promise<string> {
  if (!t.devIdentityProvider) throw new Error('userToken needs the embedded dev identity provider');
  return t.devIdentityProvider.issueAccessToken(username);
}

export function adminToken(t: TestApp): Promise<string> {
  return userToken(t, 'admin');
}

/** A token through the provider's real token endpoint (password grant of the public Swagger client). */
export async function passwordGrant(t: TestApp, username: string, password: string): Promise<Response> {
  return fetch(`${t.config.oidcIssuer}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: t.config.swaggerClientId, username, password, scope: 'openid' }),
  });
}

export interface IssuedKey {
  key: string;
  prefix: string;
  id: string;
}

/** Issues an API key through the real admin API. */
export async function createApiKey(
  t: TestApp,
  options: { scopes?: Array<'read' | 'write'>; client?: string; expiresAt?: string } = {},
): Promise<IssuedKey> {
  const response = await t.request('/api/v1/apikey/create', {
    method: 'POST',
    headers: { authorization: `Bearer ${await adminToken(t)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ client: options.client ?? 'test-client', description: 'issued by a test', ...options }),
  });
  if (response.status !== 201) throw new Error(`createApiKey: ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { plaintext: string; apiKey: string; id: string };
  return { key: body.plaintext, prefix: body.apiKey, id: body.id };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
export const apiKey = (key: string) => ({ 'x-api-key': key });
export const jsonBody = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});
