import { existsSync } from 'node:fs';
import { Socket } from 'node:net';

/**
 * Suites that need something beyond Node (Chromium, Redis) run whenever it is there. On a laptop without it they
 * say loudly that they were skipped; CI sets QUESTLINE_REQUIRE_ALL_SUITES=1, which turns a skip into a failure.
 */
export function missing(what: string, hint: string): boolean {
  const message = `SKIPPED: ${what} is not available (${hint}).`;
  if (process.env.QUESTLINE_REQUIRE_ALL_SUITES === '1') throw new Error(`${message} QUESTLINE_REQUIRE_ALL_SUITES=1 makes this a failure.`);
  console.warn(`\n\x1b[33m${'!'.repeat(80)}\n${message}\n${'!'.repeat(80)}\x1b[0m\n`);
  return true;
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** True when Chromium is installed; otherwise reports the skip (or fails under CI). */
export function hasChromium(): boolean {
  return existsSync(CHROMIUM_PATH) || !missing('Chromium', `install Debian's chromium or set CHROMIUM_PATH; looked at ${CHROMIUM_PATH}`);
}

export const REDIS_TEST_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';

export function reachable(url: string, timeoutMs = 500): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port || 6379), hostname, () => done(true));
  });
}

/** True when Redis answers at REDIS_TEST_URL; otherwise reports the skip (or fails under CI). */
export async function hasRedis(): Promise<boolean> {
  return (await reachable(REDIS_TEST_URL)) || !missing('Redis', `nothing answers at ${REDIS_TEST_URL}; start redis-server or set REDIS_TEST_URL`);
}

export const REDIS_SERVER_PATH = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';

/** True when a redis-server binary is installed (suites that stop and restart their own Redis need it). */
export function hasRedisServer(): boolean {
  return (
    existsSync(REDIS_SERVER_PATH) ||
    !missing('redis-server', `install redis-server (Debian: apt-get install redis-server) or set REDIS_SERVER_PATH; looked at ${REDIS_SERVER_PATH}`)
  );
}
