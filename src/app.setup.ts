import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module.js';
import { configWarnings, loadConfig, type AppConfig } from './config/config.schema.js';
import { problem, PROBLEM_CONTENT_TYPE, ProblemDetailsFilter } from './common/problem-details.filter.js';
import { createValidationPipe } from './common/validation.js';
import { applyHttpHardening } from './common/http-hardening.js';
import { registerBodyParsers } from './common/unreadable-body.js';
import { SECURITY_API_KEY, SECURITY_BEARER, SECURITY_OAUTH2 } from './auth/auth.decorators.js';
import { appLogger, createAppLogger, PinoNestLogger } from './observability/logger.js';
import { DevIdentityProvider, registerDevIdentityProvider } from './dev-idp/dev-identity-provider.js';
import { AUTH_FAILURES_DETAIL } from './rate-limits/auth-failure-limiter.js';

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_PARAM_LENGTH = 500;

export interface CreateAppOptions {
  /** Defaults to `loadConfig(process.env)`. */
  config?: AppConfig;
  /** Where logs go (tests capture them); defaults to stdout. */
  logDestination?: DestinationStream;
}

export interface CreatedApp {
  app: NestFastifyApplication;
  config: AppConfig;
  devIdentityProvider?: DevIdentityProvider;
}

/** Builds the whole application exactly as `main.ts` runs it; tests use it too. Call `app.listen` or `app.init`. */
export async function createApp(options: CreateAppOptions = {}): Promise<CreatedApp> {
  const config = options.config ?? loadConfig();
  createAppLogger(config.logLevel, options.logDestination);
  for (const warning of configWarnings(config)) appLogger().warn({ component: 'config' }, warning);
  const devIdentityProvider = config.devIdentityProvider
    ? await DevIdentityProvider.create({
        issuer: config.oidcIssuer!,
        publicUrl: config.publicUrl,
        realm: config.keycloakRealm,
        apiClientId: config.keycloakClientId,
        swaggerClientId: config.swaggerClientId,
        adminRole: config.adminRole,
        audience: config.keycloakAudience,
      })
    : undefined;

  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimitBytes,
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    return503OnClosing: true,
    // The router answers a malformed URL (400) or an over-long path parameter (414) before any hook or Nest filter
    // runs: these answers are problem+json with a correlation id too, and never echo the URL.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      const detail = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? `A path parameter is longer than ${MAX_PARAM_LENGTH} characters.` : 'The request URL is malformed.';
      void reply.code(status).header('X-Correlation-ID', String(request.id)).header('content-type', PROBLEM_CONTENT_TYPE).send(problem(status, detail));
    },
    genReqId: (request: IncomingMessage) => {
      const sent = request.headers['x-correlation-id'];
      return typeof sent === 'string' && CORRELATION_ID.test(sent) ? sent : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, devIdentityProvider), adapter, {
    logger: new PinoNestLogger(),
    abortOnError: false,
  });
  await configureApp(app, config, devIdentityProvider);
  return { app, config, devIdentityProvider };
}

export async function configureApp(app: NestFastifyApplication, config: AppConfig, devIdentityProvider?: DevIdentityProvider): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    // A Fastify reply header, like every other header the app sets: with none set on the raw response, Node writes
    // Fastify's headers as they are instead of merging them into its own one by one.
    reply.header('X-Correlation-ID', String(request.id));
    done();
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    // At `warn` and above there is no request line: nothing is built for it either.
    const logger = appLogger();
    if (logger.isLevelEnabled('info')) {
      logger.info(
        {
          correlationId: request.id,
          method: request.method,
          route: request.routeOptions?.url ?? null,
          status: reply.statusCode,
          durationMs: Math.round(reply.elapsedTime * 100) / 100,
        },
        'request',
      );
    }
    done();
  });
  registerBodyParsers(app, config.bodyLimitBytes);
  if (devIdentityProvider) registerDevIdentityProvider(fastify, devIdentityProvider);
  await applyHttpHardening(app, config);

  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ProblemDetailsFilter());
  setupSwagger(app, config);
}

function setupSwagger(app: NestFastifyApplication, config: AppConfig): void {
  const openIdConnect = `${config.oidcIssuer}/protocol/openid-connect`;
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Questline API')
      .setDescription(
        [
          'Gamification REST API compatible with GAME: games, tasks, scoring strategies, idempotent points, wallets and simulation.',
          '',
          'Authenticate with an `X-API-Key` (integrators) or an OIDC bearer token (admins and end users). A request may send both;',
          'every credential sent must be valid. Errors are `application/problem+json`: validation errors are 422 with one',
          '`{field, message}` per bad field (unknown fields, JSON nested deeper than 100 levels and strings holding NUL or',
          'unpaired surrogates included), malformed JSON is 400, bodies over the size limit 413, an unavailable database 503.',
          'Checks run in this order: credentials (401/403), key scope (403), rate limits (429), body and query (400/415/422), then',
          'the game or task named in the path (404, or 403 for another tenant’s). A body over the size limit is refused (413) as it',
          'arrives, before any other check.',
          'Award and action routes are rate-limited (429 with `Retry-After`; `X-RateLimit-*` headers on every answer).',
          ...(config.rateLimitsEnabled && config.authFailureLimitPerIp > 0
            ? [
                `After ${config.authFailureLimitPerIp} refused credentials from one client address in a ${config.rateLimitWindowSeconds} s window`,
                '(credentials still being checked count too), that address gets 429',
                `\`${AUTH_FAILURES_DETAIL}\` (with \`Retry-After\`) on every API route, before its`,
                'credentials are checked, until the window ends — except credentials this instance has already verified (cached keys and',
                'tokens, keys verified in the last hour).',
              ]
            : []),
        ].join('\n'),
      )
      .setVersion('1.0.0')
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key issued by an admin.' }, SECURITY_API_KEY)
      .addOAuth2(
        {
          type: 'oauth2',
          description: `OpenID Connect against ${config.oidcIssuer}`,
          flows: {
            authorizationCode: {
              authorizationUrl: `${openIdConnect}/auth`,
              tokenUrl: `${openIdConnect}/token`,
              scopes: { openid: 'OpenID Connect', profile: 'Profile', email: 'Email' },
            },
            clientCredentials: { tokenUrl: `${openIdConnect}/token`, scopes: {} },
          },
        },
        SECURITY_OAUTH2,
      )
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Paste an access token.' }, SECURITY_BEARER)
      .build(),
  );
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    swaggerOptions: {
      // Credentials entered in Swagger UI live as long as the page: persisted, they would sit in the browser's
      // localStorage indefinitely, readable by any script of this origin and by the next user of a shared machine.
      persistAuthorization: false,
      oauth2RedirectUrl: `${config.publicUrl}/docs/oauth2-redirect.html`,
      initOAuth: { clientId: config.swaggerClientId, usePkceWithAuthorizationCodeGrant: true, scopes: ['openid', 'profile'] },
    },
  });
}
