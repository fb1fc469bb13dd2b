import type { LoggerService } from '@nestjs/common';
import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * Paths that may hold a credential in anything we log; pino replaces them with "[Redacted]". Request lines never
 * include headers or bodies at all, so this is a second line of defence.
 */
const REDACT_PATHS = [
  'authorization',
  'password',
  'secret',
  'token',
  'apiKey',
  'plaintext',
  'headers.authorization',
  'headers.cookie',
  'headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  '*.authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.plaintext',
  '*.client_secret',
];

/**
 * The logger before the configuration is loaded: `LOG_LEVEL` when it names a level, else `info` — a bad value must
 * reach the configuration check (which names it), not make pino throw while this module loads.
 */
function initialLevel(): string {
  const level = process.env.LOG_LEVEL?.toLowerCase();
  return level !== undefined && (level === 'silent' || Object.hasOwn(pino.levels.values, level)) ? level : 'info';
}

let current: Logger = pino({ level: initialLevel(), redact: { paths: REDACT_PATHS, censor: '[Redacted]' } });

export function createAppLogger(level: string, destination?: DestinationStream): Logger {
  current = pino(
    { level, base: { service: 'questline' }, redact: { paths: REDACT_PATHS, censor: '[Redacted]' }, timestamp: pino.stdTimeFunctions.isoTime },
    destination ?? pino.destination({ sync: false }),
  );
  return current;
}

export function appLogger(): Logger {
  return current;
}

/**
 * What of an error may be logged: its type, code and stack frames. Messages of database errors can carry
 * parameter values ("invalid input syntax for type uuid: …"), so they are dropped; other messages are kept.
 */
export function errorForLog(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const code = (error as { code?: unknown }).code;
  const fromDatabase = 'driverError' in error || 'query' in error || (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code));
  const frames = (error.stack ?? '').split('\n').filter((line) => line.trimStart().startsWith('at '));
  return {
    type: error.name,
    code: typeof code === 'string' ? code : undefined,
    message: fromDatabase ? undefined : error.message,
    stack: frames.join('\n'),
  };
}

/** Nest's logger interface over the app's pino logger. */
export class PinoNestLogger implements LoggerService {
  log(message: unknown, context?: string) {
    appLogger().info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    if (message instanceof Error) appLogger().error({ context, err: errorForLog(message) }, 'error');
    else appLogger().error({ context }, String(message));
    void trace;
  }
  warn(message: unknown, context?: string) {
    appLogger().warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    appLogger().debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    appLogger().trace({ context }, String(message));
  }
  fatal(message: unknown, context?: string) {
    appLogger().fatal({ context }, String(message));
  }
}
