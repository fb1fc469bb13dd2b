/**
 * The embedded dev OpenID provider (API.md §11): a real `oidc-provider` 9 instance that imitates Keycloak's URL
 * layout and access-token claims, with fixed dev users and clients. Development and tests only — `create()` refuses
 * to run when NODE_ENV=production.
 *
 * - Paths (under the issuer `${publicUrl}/realms/${realm}`): `/.well-known/openid-configuration`,
 *   `/protocol/openid-connect/{auth,token,certs,userinfo,token/introspect,revoke,logout}`, and the login page at
 *   `/login-actions/authenticate/{uid}`.
 * - Access tokens are RS256 JWTs (header `typ: JWT`, `kid: questline-dev-1`), `aud` = options.audience, valid for
 *   {@link ACCESS_TOKEN_TTL_SECONDS} (one hour — longer than Keycloak's 5 minutes, for dev convenience).
 * - `oidc-provider` is imported lazily inside `create()`, so importing this file costs nothing in production.
 */
import { createPublicKey } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';

import type { FastifyInstance } from 'fastify';
import type {
  AccessToken,
  ClientCredentials,
  ClientMetadata,
  Configuration,
  Interaction,
  JWTStructured,
  KoaContextWithOIDC,
  ResourceServer,
  TokenEndpointGrantContext,
  UnknownObject,
} from 'oidc-provider';
import type Provider from 'oidc-provider';

import {
  checkDevUserPassword,
  defaultRealmRoles,
  DEV_ADMIN_CLIENT_ID,
  DEV_ADMIN_CLIENT_SECRET,
  DEV_API_CLIENT_SECRET,
  DEV_SERVICE_CLIENT_ID,
  DEV_SERVICE_CLIENT_SECRET,
  findDevUser,
  normalizeUsername,
} from './dev-identities.js';
import { DEV_SIGNING_KEY, DEV_SIGNING_KEY_ID } from './dev-signing-key.js';
import { createDevAdapterFactory } from './memory-adapter.js';
import { PAGE_CSP, renderLoginPage, renderLogoutPage, renderMessagePage } from './pages.js';

export interface DevIdentityProviderOptions {
  /** e.g. 'http://localhost:3000/realms/questline' (= `${publicUrl}/realms/${realm}`) */
  issuer: string;
  /** e.g. 'http://localhost:3000' (Swagger redirect is `${publicUrl}/docs/oauth2-redirect.html`) */
  publicUrl: string;
  /** 'questline' */
  realm: string;
  /** 'questline-api' (resource_access key that carries client roles) */
  apiClientId: string;
  /** 'questline-swagger' */
  swaggerClientId: string;
  /** 'AdministratorGAME' */
  adminRole: string;
  /** 'account' */
  audience: string;
}

/** Access-token lifetime (client credentials, password grant, authorization code, refresh). */
export const ACCESS_TOKEN_TTL_SECONDS = 3600;
const REFRESH_TOKEN_TTL_SECONDS = 8 * 3600;
const SESSION_TTL_SECONDS = 10 * 3600;
const INTERACTION_TTL_SECONDS = 3600;
const AUTHORIZATION_CODE_TTL_SECONDS = 60;
const MAX_FORM_BYTES = 16 * 1024;

/** Scopes Keycloak puts in every token by default (its default client scopes). */
const DEFAULT_TOKEN_SCOPES = ['profile', 'email'];
const RESOURCE_SCOPE = 'openid profile email offline_access';
const LOGIN_PATH = '/login-actions/authenticate/';
const INVALID_CREDENTIALS = 'Invalid username or password.';

type RawRequest = IncomingMessage & { originalUrl?: string };
/** The typings make `grantId` mandatory; at runtime it is optional (a JWT access token is never stored). */
type AccessTokenInit = Omit<ConstructorParameters<Provider['AccessToken']>[0], 'grantId'> & { grantId?: string };
const accessTokenInit = (init: AccessTokenInit) => init as ConstructorParameters<Provider['AccessToken']>[0];

export class DevIdentityProvider {
  readonly issuer: string;
  readonly basePath: string;

  private readonly provider: Provider;
  private readonly callback: (req: IncomingMessage, res: ServerResponse) => void;
  private readonly resourceIdentifier: string;

  private constructor(
    private readonly options: DevIdentityProviderOptions,
    ProviderClass: typeof Provider,
    private readonly errors: typeof import('oidc-provider').errors,
  ) {
    const issuerUrl = new URL(options.issuer);
    this.issuer = options.issuer.replace(/\/+$/, '');
    this.basePath = issuerUrl.pathname.replace(/\/+$/, '');
    // The resource indicator every token is issued for (any requested indicator maps to the same resource server).
    this.resourceIdentifier = new URL(options.publicUrl).href;

    this.provider = new ProviderClass(this.issuer, this.configuration());
    // Trust X-Forwarded-* (dev only) so discovery lists the URLs the browser actually used behind a proxy.
    this.provider.proxy = true;
    this.provider.registerGrantType(
      'password',
      (ctx: TokenEndpointGrantContext) => this.passwordGrant(ctx),
      ['username', 'password', 'scope'],
    );
    this.callback = this.provider.callback() as (req: IncomingMessage, res: ServerResponse) => void;
  }

  static async create(options: DevIdentityProviderOptions): Promise<DevIdentityProvider> {
    if (process.env.NODE_ENV === 'production') {
      throw new Error('The embedded dev identity provider must not run with NODE_ENV=production; configure an issuer.');
    }
    const mod = await import('oidc-provider');
    const idp = new DevIdentityProvider(options, mod.default, mod.errors);
    // oidc-provider keeps each request's context in an AsyncLocalStorage; once one is running, Node tracks every
    // promise of the whole process, which makes every API request dearer. It is switched off whenever no provider
    // request is in flight (a later request switches it on again).
    const alsPath = 'oidc-provider/lib/helpers/als.js';
    idp.requestContext = ((await import(alsPath)) as { default: { disable(): void } }).default;
    return idp;
  }

  /** The public signing keys (what `/protocol/openid-connect/certs` serves), for in-process verification. */
  publicJwks(): { keys: Array<Record<string, unknown>> } {
    const jwk = createPublicKey({ key: { ...DEV_SIGNING_KEY }, format: 'jwk' }).export({ format: 'jwk' });
    return { keys: [{ kid: DEV_SIGNING_KEY_ID, kty: jwk.kty, n: jwk.n, e: jwk.e, alg: 'RS256', use: 'sig' }] };
  }

  private requestContext?: { disable(): void };
  private inFlight = 0;

  /** Node handler; req.url is the full path (it starts with basePath). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.inFlight++;
    res.once('close', () => {
      if (--this.inFlight === 0) this.requestContext?.disable();
    });
    const raw = req as RawRequest;
    const fullUrl = raw.url ?? '/';
    const relative = fullUrl.startsWith(this.basePath) ? fullUrl.slice(this.basePath.length) || '/' : fullUrl;
    const relativePath = relative.split('?', 1)[0];

    if (relativePath.startsWith(LOGIN_PATH)) {
      const uid = decodeURIComponent(relativePath.slice(LOGIN_PATH.length));
      this.handleLogin(req, res, uid).catch((error: unknown) => this.sendInteractionError(res, error));
      return;
    }

    // oidc-provider derives its mount path from originalUrl minus url, and builds absolute URLs from it.
    raw.originalUrl = fullUrl;
    raw.url = relative;
    this.callback(req, res);
  }

  /**
   * Mints an access token directly (no HTTP) for scripts and tests, with the same claims as the password grant.
   * Any username is accepted: the dev users get their roles, anyone else is a plain (non-admin) user.
   */
  async issueAccessToken(username: string, clientId: string = this.options.swaggerClientId): Promise<string> {
    const client = await this.provider.Client.find(clientId);
    if (!client) throw new Error(`Unknown dev client ${clientId}`);
    const accessToken = new this.provider.AccessToken(
      accessTokenInit({ accountId: normalizeUsername(username), client, gty: 'password', scope: 'openid profile email' }),
    );
    accessToken.resourceServer = new this.provider.ResourceServer(this.resourceIdentifier, this.resourceServerInfo());
    return accessToken.save();
  }

  // ---------------------------------------------------------------------------------------------------------------

  private configuration(): Configuration {
    const { publicUrl, swaggerClientId, apiClientId } = this.options;
    const clients: ClientMetadata[] = [
      {
        client_id: swaggerClientId,
        client_name: 'Questline Swagger UI',
        token_endpoint_auth_method: 'none',
        redirect_uris: [`${publicUrl}/docs/oauth2-redirect.html`],
        post_logout_redirect_uris: [`${publicUrl}/docs`],
        grant_types: ['authorization_code', 'refresh_token', 'password'],
        response_types: ['code'],
      },
      {
        client_id: DEV_ADMIN_CLIENT_ID,
        client_secret: DEV_ADMIN_CLIENT_SECRET,
        grant_types: ['client_credentials', 'password'],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: DEV_SERVICE_CLIENT_ID,
        client_secret: DEV_SERVICE_CLIENT_SECRET,
        grant_types: ['client_credentials', 'password'],
        response_types: [],
        redirect_uris: [],
      },
      {
        // Bearer-only: the API itself. No grants; its client roles live in resource_access[apiClientId].
        client_id: apiClientId,
        client_secret: DEV_API_CLIENT_SECRET,
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      },
    ];

    return {
      adapter: createDevAdapterFactory(),
      clients,
      jwks: { keys: [{ ...DEV_SIGNING_KEY }] },
      cookies: {
        // Dev-only cookie signing key (public knowledge, like the signing key).
        keys: ['questline-dev-idp-cookie-key'],
        names: { session: 'KEYCLOAK_SESSION', interaction: '_interaction', resume: '_interaction_resume' },
      },
      routes: {
        authorization: '/protocol/openid-connect/auth',
        token: '/protocol/openid-connect/token',
        jwks: '/protocol/openid-connect/certs',
        userinfo: '/protocol/openid-connect/userinfo',
        introspection: '/protocol/openid-connect/token/introspect',
        revocation: '/protocol/openid-connect/revoke',
        end_session: '/protocol/openid-connect/logout',
      },
      scopes: ['openid', 'offline_access', 'profile', 'email'],
      claims: {
        openid: ['sub'],
        profile: ['preferred_username', 'name', 'given_name', 'family_name'],
        email: ['email', 'email_verified'],
      },
      findAccount: (_ctx, sub) => this.findAccount(sub),
      pkce: { required: () => true },
      clientBasedCORS: () => true,
      issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
      loadExistingGrant: (ctx) => this.loadExistingGrant(ctx),
      interactions: {
        url: (_ctx, interaction) => `${this.basePath}${LOGIN_PATH}${encodeURIComponent(interaction.uid)}`,
      },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true, allowedPolicy: () => true },
        revocation: { enabled: true, allowedPolicy: () => true },
        rpInitiatedLogout: {
          enabled: true,
          logoutSource: (ctx, form) => {
            ctx.type = 'html';
            ctx.set('Content-Security-Policy', PAGE_CSP);
            ctx.body = renderLogoutPage(ctx.host, form);
          },
          postLogoutSuccessSource: (ctx) => {
            ctx.type = 'html';
            ctx.set('Content-Security-Policy', PAGE_CSP);
            ctx.body = renderMessagePage('Signed out', 'You have been signed out.');
          },
        },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => this.resourceIdentifier,
          useGrantedResource: () => true,
          getResourceServerInfo: () => this.resourceServerInfo(),
        },
      },
      extraTokenClaims: (_ctx, token) => this.keycloakClaims(token),
      formats: {
        customizers: {
          jwt: (_ctx, _token, parts: JWTStructured) => {
            parts.header = { ...parts.header, typ: 'JWT' };
            const scopes = new Set(String(parts.payload.scope ?? '').split(' ').filter(Boolean));
            for (const scope of DEFAULT_TOKEN_SCOPES) scopes.add(scope);
            parts.payload.scope = [...scopes].join(' ');
          },
        },
      },
      renderError: (ctx, out) => {
        ctx.type = 'html';
        ctx.set('Content-Security-Policy', PAGE_CSP);
        ctx.body = renderMessagePage('Sign-in error', String(out.error_description ?? out.error), {
          error: out.error,
        });
      },
      ttl: {
        AccessToken: ACCESS_TOKEN_TTL_SECONDS,
        ClientCredentials: ACCESS_TOKEN_TTL_SECONDS,
        AuthorizationCode: AUTHORIZATION_CODE_TTL_SECONDS,
        IdToken: ACCESS_TOKEN_TTL_SECONDS,
        RefreshToken: REFRESH_TOKEN_TTL_SECONDS,
        Interaction: INTERACTION_TTL_SECONDS,
        Session: SESSION_TTL_SECONDS,
        Grant: SESSION_TTL_SECONDS,
        DeviceCode: 600,
        BackchannelAuthenticationRequest: 600,
        PreAuthorizedCode: 600,
      },
    };
  }

  private resourceServerInfo(): ResourceServer {
    return {
      scope: RESOURCE_SCOPE,
      audience: this.options.audience,
      accessTokenFormat: 'jwt',
      accessTokenTTL: ACCESS_TOKEN_TTL_SECONDS,
      jwt: { sign: { alg: 'RS256', kid: DEV_SIGNING_KEY_ID } },
    };
  }

  private findAccount(sub: string) {
    const user = findDevUser(sub);
    if (!user) return undefined;
    const [given, ...family] = user.name.split(' ');
    return {
      accountId: user.username,
      claims: () => ({
        sub: user.username,
        preferred_username: user.username,
        name: user.name,
        given_name: given,
        family_name: family.join(' '),
        email: user.email,
        email_verified: true,
      }),
    };
  }

  /** First-party clients only: grant whatever was asked (Keycloak shows no consent screen for them). */
  private async loadExistingGrant(ctx: KoaContextWithOIDC) {
    const { Grant } = this.provider;
    const { client, session } = ctx.oidc;
    if (!client || !session?.accountId) return undefined;
    const grantId = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
    const grant =
      (grantId ? await Grant.find(grantId) : undefined) ??
      new Grant({ clientId: client.clientId, accountId: session.accountId });
    grant.addOIDCScope([...new Set(['openid', ...ctx.oidc.requestParamOIDCScopes])]);
    for (const [identifier, resourceServer] of Object.entries(ctx.oidc.resourceServers ?? {})) {
      grant.addResourceScope(identifier, resourceServer.scope);
    }
    await grant.save();
    return grant;
  }

  /** Keycloak-shaped claims; protected ones (sub, scope, aud, …) are set by oidc-provider / the customizer. */
  private keycloakClaims(token: AccessToken | ClientCredentials): UnknownObject {
    const { realm, adminRole, apiClientId } = this.options;
    const clientId = token.clientId;
    let admin: boolean;
    let identity: UnknownObject;

    if (token.kind === 'ClientCredentials') {
      admin = clientId === DEV_ADMIN_CLIENT_ID;
      identity = { preferred_username: `service-account-${clientId}`, clientId };
    } else {
      const username = (token as AccessToken).accountId ?? '';
      const user = findDevUser(username);
      admin = user?.admin ?? false;
      identity = {
        preferred_username: username,
        email: user?.email ?? `${username}@questline.dev`,
        email_verified: true,
        name: user?.name ?? username,
      };
    }

    const realmRoles = [...defaultRealmRoles(realm), admin ? adminRole : 'user'];
    return {
      typ: 'Bearer',
      azp: clientId,
      ...identity,
      realm_access: { roles: realmRoles },
      resource_access: {
        [apiClientId]: { roles: admin ? [adminRole] : [] },
        account: { roles: ['manage-account', 'manage-account-links', 'view-profile'] },
      },
    };
  }

  /** Keycloak "direct access grants": grant_type=password. */
  private async passwordGrant(ctx: TokenEndpointGrantContext): Promise<void> {
    const { client, params } = ctx.oidc;
    const { username, password } = params as { username?: unknown; password?: unknown };
    if (typeof username !== 'string' || !username || typeof password !== 'string') {
      throw new this.errors.InvalidRequest('missing required parameter(s) (username, password)');
    }
    const user = checkDevUserPassword(username, password);
    if (!user) throw new this.errors.InvalidGrant('Invalid user credentials');

    const provider = this.provider;
    const resourceServer = new provider.ResourceServer(this.resourceIdentifier, this.resourceServerInfo());
    const requested = new Set(String(params.scope ?? '').split(' ').filter(Boolean));
    const scope = [...requested].filter((s) => resourceServer.scopes.has(s)).join(' ') || undefined;

    // A Grant is needed only to back a refresh token (refresh_token grant looks it up).
    const withRefresh = client.grantTypeAllowed('refresh_token');
    let grantId: string | undefined;
    if (withRefresh) {
      const grant = new provider.Grant({ accountId: user.username, clientId: client.clientId });
      grant.addOIDCScope(['openid', ...requested].filter((s) => resourceServer.scopes.has(s)));
      grant.addResourceScope(this.resourceIdentifier, RESOURCE_SCOPE);
      grantId = await grant.save();
    }

    const accessToken = new provider.AccessToken(
      accessTokenInit({ accountId: user.username, client, gty: 'password', grantId, scope }),
    );
    accessToken.resourceServer = resourceServer;
    ctx.oidc.entity('AccessToken', accessToken);
    const accessTokenValue = await accessToken.save();

    const responseScope = [...new Set([...(scope?.split(' ') ?? []), ...DEFAULT_TOKEN_SCOPES])].join(' ');
    let refreshTokenValue: string | undefined;
    if (grantId) {
      const refreshToken = new provider.RefreshToken({
        accountId: user.username,
        client,
        gty: 'password',
        grantId,
        resource: this.resourceIdentifier,
        scope: responseScope,
        rotations: 0,
      });
      refreshTokenValue = await refreshToken.save();
    }

    ctx.body = {
      access_token: accessTokenValue,
      expires_in: accessToken.expiration,
      token_type: 'Bearer',
      ...(refreshTokenValue ? { refresh_token: refreshTokenValue, refresh_expires_in: REFRESH_TOKEN_TTL_SECONDS } : {}),
      scope: responseScope,
    };
  }

  // --- login page ----------------------------------------------------------------------------------------------

  private async handleLogin(req: IncomingMessage, res: ServerResponse, uid: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
      res.setHeader('Allow', 'GET, HEAD, POST');
      this.sendHtml(res, 405, renderMessagePage('Method not allowed', `${method} is not allowed here.`));
      return;
    }

    const interaction = await this.provider.interactionDetails(req, res);
    if (interaction.uid !== uid) {
      this.sendHtml(res, 400, renderMessagePage('Sign-in error', 'This sign-in page has expired. Start again.'));
      return;
    }

    if (interaction.prompt.name === 'consent') {
      await this.provider.interactionFinished(req, res, { consent: { grantId: await this.autoConsent(interaction) } });
      return;
    }

    const page = {
      realm: this.options.realm,
      action: `${this.basePath}${LOGIN_PATH}${encodeURIComponent(uid)}`,
      clientId: String(interaction.params.client_id ?? ''),
    };

    if (method !== 'POST') {
      this.sendHtml(res, 200, renderLoginPage(page), method === 'HEAD');
      return;
    }

    const form = await readForm(req);
    const username = typeof form.username === 'string' ? form.username : '';
    const user = checkDevUserPassword(username, form.password);
    if (!user) {
      this.sendHtml(res, 401, renderLoginPage({ ...page, username, error: INVALID_CREDENTIALS }));
      return;
    }
    await this.provider.interactionFinished(
      req,
      res,
      { login: { accountId: user.username, amr: ['pwd'] } },
      { mergeWithLastSubmission: false },
    );
  }

  private async autoConsent(interaction: Interaction): Promise<string> {
    const { Grant } = this.provider;
    const { accountId } = interaction.session ?? {};
    const clientId = String(interaction.params.client_id);
    const grant =
      (interaction.grantId ? await Grant.find(interaction.grantId) : undefined) ?? new Grant({ accountId, clientId });
    const details = interaction.prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(' '));
    }
    return grant.save();
  }

  private sendInteractionError(res: ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const known = error instanceof this.errors.OIDCProviderError;
    const message = known
      ? 'Your sign-in session was not found or has expired. Start the sign-in again from the application.'
      : 'The sign-in could not be completed.';
    if (!known) console.error('[dev-idp] login page error', error);
    this.sendHtml(res, known ? 400 : 500, renderMessagePage('Sign-in error', message));
  }

  private sendHtml(res: ServerResponse, status: number, html: string, headOnly = false): void {
    const body = Buffer.from(html, 'utf8');
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Content-Length', body.length);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Content-Security-Policy', PAGE_CSP);
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.end(headOnly ? undefined : body);
  }
}

async function readForm(req: IncomingMessage): Promise<Record<string, string | string[] | undefined>> {
  const contentType = String(req.headers['content-type'] ?? '');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_FORM_BYTES) throw new Error('login form too large');
    chunks.push(buffer);
  }
  if (!contentType.startsWith('application/x-www-form-urlencoded')) return {};
  return parseQuery(Buffer.concat(chunks).toString('utf8'));
}

/**
 * Registers a Fastify onRequest hook that hands every request under idp.basePath to idp.handle (reply.hijack()),
 * before Fastify parses the body. Register it before other onRequest hooks that should not see IdP traffic.
 */
export function registerDevIdentityProvider(fastify: FastifyInstance, idp: DevIdentityProvider): void {
  const base = idp.basePath;
  fastify.addHook('onRequest', (request, reply, done) => {
    const url = request.raw.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (path === base || path.startsWith(`${base}/`)) {
      // A hijacked reply writes none of Fastify's headers: the ones set so far (the correlation id) go on the raw response.
      const headers = reply.getHeaders();
      for (const name in headers) reply.raw.setHeader(name, headers[name]!);
      reply.hijack();
      idp.handle(request.raw, reply.raw);
      return;
    }
    done();
  });
}
