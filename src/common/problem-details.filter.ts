import { STATUS_CODES } from 'node:http';
import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DomainError, type FieldError } from './domain-error.js';
import { appLogger, errorForLog } from '../observability/logger.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
  correlationId?: string;
}

export function problem(status: number, detail: string, extra: Partial<ProblemDetails> = {}): ProblemDetails {
  return { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail, ...extra };
}

/** PostgreSQL/driver failures that mean "the database is unreachable right now", answered with 503. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const candidate = error as { code?: unknown; message?: unknown; driverError?: unknown };
  const code = typeof candidate.code === 'string' ? candidate.code : '';
  const message = typeof candidate.message === 'string' ? candidate.message : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', '57P01', '57P02', '57P03', '53300'].includes(code)) return true;
  if (code.startsWith('08')) return true;
  if (
    /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|connection is not open|Cannot use a pool after calling end/i.test(
      message,
    )
  ) {
    return true;
  }
  return candidate.driverError !== undefined && candidate.driverError !== error && isDatabaseUnavailable(candidate.driverError);
}

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** Turns whatever a message of a Nest HttpException holds into one sentence and, for validation, a field list. */
function fromHttpException(exception: HttpException): { detail: string; errors?: FieldError[] } {
  const response = exception.getResponse();
  if (typeof response === 'string') return { detail: response };
  const body = response as { message?: unknown; detail?: unknown; errors?: FieldError[] };
  if (typeof body.detail === 'string') return { detail: body.detail, errors: body.errors };
  if (Array.isArray(body.message)) {
    const messages = body.message.map(String);
    return { detail: messages.join('; '), errors: messages.map((message) => ({ field: message.split(' ')[0], message })) };
  }
  if (typeof body.message === 'string') return { detail: body.message };
  return { detail: exception.message };
}

/** The one place errors become HTTP answers: `application/problem+json`, never a stack trace or SQL. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const request = context.getRequest<FastifyRequest>();
    const reply = context.getResponse<FastifyReply>();
    const instance = pathOf(request.url);
    const correlationId = String(request.id);
    let body: ProblemDetails;
    let headers: Record<string, string> = {};

    if (exception instanceof DomainError) {
      body = problem(exception.status, exception.detail, { instance, errors: exception.options.errors });
      headers = exception.options.headers ?? {};
    } else if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const { detail, errors } = fromHttpException(exception);
      body = problem(status, detail, { instance, errors });
      const extraHeaders = (exception as { headers?: Record<string, string> }).headers;
      if (extraHeaders) headers = extraHeaders;
    } else if (isDatabaseUnavailable(exception)) {
      appLogger().warn({ correlationId, err: errorForLog(exception) }, 'database unavailable');
      body = problem(503, 'Service temporarily unavailable: the database did not answer in time.', { instance });
      headers = { 'Retry-After': '5' };
    } else {
      appLogger().error({ correlationId, err: errorForLog(exception), method: request.method, route: request.routeOptions?.url }, 'unhandled error');
      body = problem(500, 'Internal server error', { instance, correlationId });
    }

    if (reply.sent) return;
    reply.status(body.status).headers(headers).header('content-type', PROBLEM_CONTENT_TYPE).send(body);
  }
}
