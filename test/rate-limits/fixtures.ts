import { expect } from 'vitest';
import type { TestApp } from '../support/app.js';

/** Headers of a caller: an API key and/or a bearer token, plus extras. */
export function credentials(caller: { key?: string; token?: string }, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(caller.key ? { 'x-api-key': caller.key } : {}),
    ...(caller.token ? { authorization: `Bearer ${caller.token}` } : {}),
    ...extra,
  };
}

export interface Sent {
  status: number;
  body: any;
  headers: Headers;
  ms: number;
}

export async function send(t: TestApp, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Sent> {
  const started = performance.now();
  const response = await t.request(path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers, ms: performance.now() - started };
}

/** A game with one open task `task-1`, owned by `headers`' caller; returns the throttled paths. */
export async function gameWithTask(t: TestApp, headers: Record<string, string>) {
  const game = await send(t, 'POST', '/api/v1/games', headers, { externalGameId: `rl_${Math.random().toString(36).slice(2, 10)}`, platform: 'web' });
  expect(game.status, JSON.stringify(game.body)).toBe(201);
  const gameId = game.body.gameId as string;
  const task = await send(t, 'POST', `/api/v1/games/${gameId}/tasks`, headers, { externalTaskId: 'task-1' });
  expect(task.status, JSON.stringify(task.body)).toBe(201);
  return {
    gameId,
    points: `/api/v1/games/${gameId}/tasks/task-1/points`,
    action: `/api/v1/games/${gameId}/tasks/task-1/action`,
    simulated: (user: string) => `/api/v1/games/${gameId}/users/${user}/points/simulated`,
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Windows are aligned to the clock. Before a burst that must land in one window, wait for a fresh window if less
 * than `neededMs` is left of the current one.
 */
export async function windowWithRoom(windowSeconds: number, neededMs: number): Promise<void> {
  const windowMs = windowSeconds * 1000;
  const left = windowMs - (Date.now() % windowMs);
  if (left < neededMs) await sleep(left + 20);
}

/** Waits until the current window (aligned to the clock) is over. */
export async function nextWindow(windowSeconds: number): Promise<void> {
  const windowMs = windowSeconds * 1000;
  await sleep(windowMs - (Date.now() % windowMs) + 20);
}

export function expect429(answer: Sent, detail: string): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(429);
  expect(answer.headers.get('content-type')).toContain('application/problem+json');
  expect(answer.body).toMatchObject({ status: 429, title: 'Too Many Requests', detail });
  expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
}

export const DETAIL = {
  apiKey: 'API key rate limit exceeded for sensitive task operations.',
  ip: 'IP rate limit exceeded for sensitive task operations.',
  externalUser: 'externalUserId rate limit exceeded for sensitive task operations.',
  daily: 'Daily API key quota exceeded for sensitive task operations.',
  simulation: 'Simulation quota exceeded.',
} as const;

/** Every limit off except the ones given (so a test sees exactly the limit it is about). */
export function onlyLimits(limits: Record<string, string | number>, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    RATE_LIMITS_ENABLED: 'true',
    RATE_LIMIT_PER_API_KEY: '0',
    RATE_LIMIT_PER_IP: '0',
    RATE_LIMIT_PER_EXTERNAL_USER: '0',
    DAILY_QUOTA_PER_API_KEY: '0',
    SIMULATION_RATE_LIMIT: '0',
    SIMULATION_DAILY_QUOTA: '0',
    AUTH_FAILURE_LIMIT_PER_IP: '0',
    REDIS_URL: '',
  };
  for (const [name, value] of Object.entries(limits)) env[name] = String(value);
  return { ...env, ...extra };
}
