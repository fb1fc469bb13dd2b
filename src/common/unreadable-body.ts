import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, RawServerDefault } from 'fastify';
import { DomainError } from './domain-error.js';

/**
 * A body that can't be read — JSON that did not parse (malformed, empty, or carrying `__proto__`/
 * `constructor.prototype`), or a media type the API does not take — kept as the request's body until the checks
 * API.md §2 puts first have run: credentials and key scope (the credentials guard), then the rate limits (which count
 * it). Only then is it the `400` or `415` it always was. Without this, Fastify answered before any guard ran: a caller
 * without credentials, with a revoked key or over its limits got `400`/`415` instead of `401`/`403`/`429`, and such
 * bodies were never counted against the limits.
 *
 * A body over `BODY_LIMIT_BYTES` is still refused (`413`) as it arrives, before the guards: the server never reads
 * more than the limit of anyone's body.
 */
export class UnreadableBody {
  constructor(readonly error: DomainError) {}
}

/** Throws the deferred `400`/`415` of a body that could not be read; anything else passes. */
export function rejectUnreadableBody(body: unknown): void {
  if (body instanceof UnreadableBody) throw body.error;
}

/**
 * The `application/json` parser: Fastify's own (with its prototype-poisoning checks), except that a parse failure
 * becomes an {@link UnreadableBody} instead of an immediate answer. Any other media type without a parser (XML, a
 * body without a content type, …) becomes one too, unread: Node discards the rest of it once the answer is sent, as
 * it did after Fastify's own `415`.
 */
export function registerBodyParsers(app: NestFastifyApplication, bodyLimit: number): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, new UnreadableBody(new DomainError('unsupported_media_type', 'Unsupported Media Type'))));
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
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
