import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, RawServerDefault } from 'fastify';
import { DomainError } from './domain-error.js';

/**
 * A JSON body that did not parse (malformed, empty, or carrying `__proto__`/`constructor.prototype`), kept as the
 * request's body until the checks API.md §2 puts first have run: credentials and key scope (the credentials guard),
 * then the rate limits (which count it). Only then is it the `400` it always was. Without this, Fastify answered
 * `400` before any guard ran: a caller without credentials, with a revoked key or over its limits got `400` instead
 * of `401`/`403`/`429`, and malformed bodies were never counted against the limits.
 *
 * A body over `BODY_LIMIT_BYTES` is still refused (`413`) as it arrives, before the guards: the server never reads
 * more than the limit of anyone's body.
 */
export class UnreadableBody {
  constructor(readonly error: DomainError) {}
}

/** Throws the deferred `400` of a body that did not parse; anything else passes. */
export function rejectUnreadableBody(body: unknown): void {
  if (body instanceof UnreadableBody) throw body.error;
}

/**
 * The `application/json` parser: Fastify's own (with its prototype-poisoning checks), except that a parse failure
 * becomes an {@link UnreadableBody} instead of an immediate answer.
 */
export function registerJsonBodyParser(app: NestFastifyApplication, bodyLimit: number): void {
  const parseJson = app.getHttpAdapter().getInstance().getDefaultJsonParser('error', 'error');
  app.useBodyParser<RawServerDefault>('application/json', { bodyLimit }, (request, body, done) => {
    // Fastify's parser reads a Buffer as well (Nest hands it one too); its type only names strings.
    parseJson(request, body as unknown as string, (error: Error | null, value?: unknown) => {
      if (!error) return done(null, value);
      const status = (error as FastifyError).statusCode;
      if (status !== undefined && status !== 400) return done(error, undefined); // not the caller's JSON: as before
      done(null, new UnreadableBody(new DomainError('bad_request', error.message)));
    });
  });
}
