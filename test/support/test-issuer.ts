import { createHmac, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

function newKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/**
 * A second, independent OpenID issuer for the tests: its own RSA keys and a JWKS served over real HTTP, so every
 * bad token (expired, wrong audience or issuer, HS256, `none`, tampered, unknown `kid`…) can be crafted.
 */
export class TestIssuer {
  readonly keys: SigningKey[] = [newKey('test-key-1')];
  /** Keys published in the JWKS (by kid); a key can sign without being published. */
  published = new Set(['test-key-1']);
  jwksRequests = 0;
  /** When set, the JWKS endpoint answers with this status. */
  failWith: number | null = null;
  private server: Server | null = null;
  port = 0;

  get issuer(): string {
    return `http://127.0.0.1:${this.port}/realms/test`;
  }

  get jwksUri(): string {
    return `${this.issuer}/protocol/openid-connect/certs`;
  }

  async start(port = 0): Promise<void> {
    this.server = createServer((request, response) => {
      if (request.url?.endsWith('/protocol/openid-connect/certs')) {
        this.jwksRequests++;
        if (this.failWith) {
          response.writeHead(this.failWith).end('unavailable');
          return;
        }
        const keys = this.keys.filter((key) => this.published.has(key.kid)).map((key) => key.publicJwk);
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
        return;
      }
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = null;
  }

  addKey(kid: string, publish = true): void {
    this.keys.push(newKey(kid));
    if (publish) this.published.add(kid);
  }

  /** Claims every valid token has; override or delete (value undefined) any. */
  claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      iss: this.issuer,
      aud: 'account',
      sub: 'subject-1',
      iat: now,
      exp: now + 300,
      azp: 'questline-swagger',
      preferred_username: 'subject-1',
      realm_access: { roles: ['user'] },
      ...overrides,
    };
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return claims;
  }

  mint(overrides: Record<string, unknown> = {}, options: { kid?: string | null; alg?: string; header?: Record<string, unknown> } = {}): string {
    const kid = options.kid === undefined ? this.keys[0].kid : options.kid;
    const alg = options.alg ?? 'RS256';
    const header = { alg, typ: 'JWT', ...(kid !== null && { kid }), ...options.header };
    const signingInput = `${b64(header)}.${b64(this.claims(overrides))}`;
    if (alg === 'none') return `${signingInput}.`;
    if (alg === 'HS256') return `${signingInput}.${createHmac('sha256', 'guessable-secret').update(signingInput).digest('base64url')}`;
    const key = this.keys.find((candidate) => candidate.kid === kid) ?? this.keys[0];
    const signature = createSign('RSA-SHA256').update(signingInput).sign(key.privateKey).toString('base64url');
    return `${signingInput}.${signature}`;
  }
}
