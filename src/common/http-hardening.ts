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
 * Security headers and CORS. Swagger UI's pages get the content security policy they need; every other answer gets
 * one that allows nothing (the embedded dev identity provider serves its pages with a policy of its own).
 *
 * Helmet's middleware is built once and run from an `onRequest` hook: `@fastify/helmet` 13 rebuilds it (re-parsing
 * the policy) on every request, about 20 µs each, a sixth of a cheap request's CPU.
 */
export async function applyHttpHardening(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  const pagePolicy = pageContentSecurityPolicy(config);
  const securityHeaders = helmet({
    contentSecurityPolicy: false, // set below, by path
    // Swagger UI's OAuth2 sign-in runs in a popup that comes back to /docs/oauth2-redirect.html and reports to
    // `window.opener`; any opener policy on that page would cut the popup off from Swagger UI.
    crossOriginOpenerPolicy: false,
    hsts: config.publicUrl.startsWith('https://') ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  });
  app.getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      reply.raw.setHeader('Content-Security-Policy', PAGE_PATH.test(request.url) ? pagePolicy : API_CONTENT_SECURITY_POLICY);
      securityHeaders(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
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
