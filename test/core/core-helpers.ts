import { expect } from 'vitest';
import { DataSource } from 'typeorm';
import { Clock } from '../../src/common/clock.js';
import type { TestApp } from '../support/app.js';
import { adminToken, createApiKey, userToken, type IssuedKey } from '../support/auth.js';

/** A caller: an API key, a bearer token, or both. */
export interface Caller {
  key?: string;
  token?: string;
}

export function headersOf(caller: Caller, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(caller.key ? { 'x-api-key': caller.key } : {}),
    ...(caller.token ? { authorization: `Bearer ${caller.token}` } : {}),
    ...extra,
  };
}

export interface Answer<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** One JSON request to the app; the body comes back parsed. */
export async function call<T = any>(
  t: TestApp,
  caller: Caller,
  method: string,
  path: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<Answer<T>> {
  const headers = headersOf(caller, extraHeaders);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await t.request(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

/** Expects a problem+json answer with this status and detail. */
export function expectProblem(answer: Answer, status: number, detail?: string | RegExp): void {
  expect({ status: answer.status, body: answer.body }).toMatchObject({ status, body: { status } });
  if (typeof detail === 'string') expect(answer.body.detail).toBe(detail);
  else if (detail) expect(answer.body.detail).toMatch(detail);
}

/** Expects a 422 naming each of `fields`. */
export function expectInvalid(answer: Answer, ...fields: string[]): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(422);
  const named = (answer.body.errors ?? []).map((error: { field: string }) => error.field);
  for (const field of fields) expect(named, JSON.stringify(answer.body)).toContain(field);
}

/** The usual cast: two keys, alice, bob and the admin. */
export interface Cast {
  keyA: IssuedKey;
  keyB: IssuedKey;
  a: Caller;
  b: Caller;
  alice: Caller;
  bob: Caller;
  admin: Caller;
}

export async function cast(t: TestApp): Promise<Cast> {
  const [keyA, keyB, alice, bob, admin] = await Promise.all([
    createApiKey(t, { client: 'tenant-a' }),
    createApiKey(t, { client: 'tenant-b' }),
    userToken(t, 'alice'),
    userToken(t, 'bob'),
    adminToken(t),
  ]);
  return { keyA, keyB, a: { key: keyA.key }, b: { key: keyB.key }, alice: { token: alice }, bob: { token: bob }, admin: { token: admin } };
}

export async function createGame(t: TestApp, caller: Caller, body: Record<string, unknown> = {}): Promise<any> {
  const answer = await call(t, caller, 'POST', '/games', { externalGameId: `game_${Math.random().toString(36).slice(2, 10)}`, platform: 'web', ...body });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body;
}

export async function createTask(t: TestApp, caller: Caller, gameId: string, body: Record<string, unknown> = {}): Promise<any> {
  const answer = await call(t, caller, 'POST', `/games/${gameId}/tasks`, { externalTaskId: `task_${Math.random().toString(36).slice(2, 10)}`, ...body });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body;
}

export function award(t: TestApp, caller: Caller, gameId: string, externalTaskId: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return call(t, caller, 'POST', `/games/${gameId}/tasks/${encodeURIComponent(externalTaskId)}/points`, body, headers);
}

/** Sets the app's clock (awards take their time from it). */
export function setClock(t: TestApp, iso: string): void {
  const time = new Date(iso);
  t.app.get(Clock).now = () => new Date(time);
}

export function resetClock(t: TestApp): void {
  t.app.get(Clock).now = () => new Date();
}

export const db = (t: TestApp) => t.app.get(DataSource);

export async function count(t: TestApp, table: string): Promise<number> {
  const [{ n }] = await db(t).query(`SELECT count(*)::int AS n FROM ${table}`);
  return n;
}
