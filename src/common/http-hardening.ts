import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '../config/config.schema.js';

/** Swagger UI's pages (`/docs`, its assets and OAuth2 redirect page): the only HTML the API serves itself. */
const PAGE_PATH = /^\/docs(?:[/?#]|$)/;

/**
 * The policy of every other answer — JSON, problem+json, CSV, the metrics text: nothing in them is ever to run, load
 * or be framed (OWASP's REST Security Cheat Sheet), and it is a quarter of the page policy's length on each response.
 */
export const API_CONTENT_SECURITY_POLICY = "default-src 'none';frame-ancestors 'none'";

/**
 * The policy Swagger UI needs: its own scripts, inline styles, data: images, and calls to the issuer's token endpoint.
 * Written as helmet writes a policy (directives joined by `;`), like the dev identity provider's `PAGE_CSP`.
 */
export function pageContentSecurityPolicy(config: Pick<AppConfig, 'oidcIssuer'>): string {
  const issuerOrigin = new URL(config.oidcIssuer!).origin;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self' ${issuerOrigin}`,
    `form-action 'self' ${issuerOrigin}`,
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'self'",
  ].join(';');
}

/**
 * The headers a helmet middleware sets, recorded once by running it against a response that only writes them down
 * (its middlewares are synchronous and read nothing of the request), lower-cased as Fastify keeps reply headers.
 */
export function recordedHeaders(middleware: ReturnType<typeof helmet>): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: unknown) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  let finished = false;
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    finished = true;
  });
  if (!finished) throw new Error('helmet did not finish synchronously');
  return headers;
}

/**
 * Security headers and CORS. Swagger UI's pages get the content security policy they need; every other answer gets
 * one that allows nothing (the embedded dev identity provider serves its pages with a policy of its own).
 *
 * Helmet's headers are recorded once at start-up and set as Fastify reply headers from an `onRequest` hook, one
 * prepared set per policy. Running helmet's middleware on each request instead cost about 4.5 % of an award's
 * instructions (measured under callgrind): a dozen `setHeader` calls on the raw response, each validated and stored,
 * which also send Node down its slower merge of raw and Fastify headers when the answer is written.
 * (`@fastify/helmet` 13 is slower still: it rebuilds the middleware, re-parsing the policy, on every request.)
 */
export async function applyHttpHardening(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const securityHeaders = recordedHeaders(
    helmet({
      contentSecurityPolicy: false, // set below, by path
      // Swagger UI's OAuth2 sign-in runs in a popup that comes back to /docs/oauth2-redirect.html and reports to
      // `window.opener`; any opener policy on that page would cut the popup off from Swagger UI.
      crossOriginOpenerPolicy: false,
      hsts: config.publicUrl.startsWith('https://') ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    }),
  );
  const pageHeaders = { ...securityHeaders, 'content-security-policy': pageContentSecurityPolicy(config) };
  const apiHeaders = { ...securityHeaders, 'content-security-policy': API_CONTENT_SECURITY_POLICY };
  app.getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      reply.headers(PAGE_PATH.test(request.url) ? pageHeaders : apiHeaders);
      done();
    });
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
      methods: ['GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE', 'OPTIONS'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-API-Key', 'Idempotency-Key', 'X-Idempotency-Key', 'X-Correlation-ID'],
      exposedHeaders: [
        'X-Correlation-ID',
        'Idempotent-Replayed',
        'Retry-After',
        'X-RateLimit-Limit',
        'X-RateLimit-Remaining',
        'X-RateLimit-Reset',
        'WWW-Authenticate',
        'X-Total-Count',
        'X-Export-Id',
        'Content-Disposition',
      ],
      maxAge: 600,
    });
  }
}
