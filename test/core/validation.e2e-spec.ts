import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { createApiKey } from '../support/auth.js';
import { award, call, cast, createGame, createTask, expectInvalid, expectProblem, headersOf, type Caller, type Cast } from './core-helpers.js';

// Every validation rule of API.md §4–§7: 422 with the bad field named (400 for malformed JSON).
describe('validation', () => {
  let t: TestApp;
  let c: Cast;
  let gameId: string;
  let task: { taskId: string; externalTaskId: string };
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMITS_ENABLED: 'false' });
    c = await cast(t);
    gameId = (await createGame(t, c.a)).gameId;
    task = await createTask(t, c.a, gameId);
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (path: string, body: unknown) => call(t, c.a, 'POST', path, body);

  it('games: slug, lengths, types, params, unknown fields', async () => {
    const valid = { externalGameId: 'valid_game', platform: 'web' };
    for (const externalGameId of ['ab', 'a'.repeat(61), 'has space', 'dot.dot', 'ümlaut', 42]) {
      expectInvalid(await post('/games', { ...valid, externalGameId }), 'externalGameId');
    }
    expectInvalid(await post('/games', { platform: 'web' }), 'externalGameId');
    expectInvalid(await post('/games', { ...valid, platform: '' }), 'platform');
    expectInvalid(await post('/games', { ...valid, platform: 'p'.repeat(101) }), 'platform');
    expectInvalid(await post('/games', { ...valid, strategyId: 5 }), 'strategyId');
    expectInvalid(await post('/games', { ...valid, params: {} }), 'params');
    expectInvalid(await post('/games', { ...valid, params: [{ key: 'k', value: { nested: true } }] }), 'params.0.value');
    expectInvalid(await post('/games', { ...valid, params: [{ key: 'k', value: null }] }), 'params.0.value');
    expectInvalid(await post('/games', { ...valid, params: [{ key: 'k', value: [1] }] }), 'params.0.value');
    expectInvalid(await post('/games', { ...valid, params: [{ key: '', value: 1 }] }), 'params.0.key');
    expectInvalid(await post('/games', { ...valid, params: [{ key: 'k', value: 1, extra: 1 }] }), 'params.0.extra');
    expectInvalid(await post('/games', { ...valid, params: [{ key: 'k', value: 1 }, { key: 'k', value: 2 }] }), 'params.1.key');
    // A param naming a strategy variable must have its type — refused when set.
    expectInvalid(await post('/games', { ...valid, params: [{ key: 'variable_basic_points', value: '10' }] }), 'params.0.value');
    expectInvalid(await post('/games', { ...valid, params: [{ key: 'variable_bonus_points', value: 1.5 }] }), 'params.0.value');
    expectInvalid(await post('/games', { ...valid, strategyId: 'constantEffortStrategy', params: [{ key: 'variable_max_points', value: true }] }), 'params.0.value');
    expectInvalid(await post('/games', { ...valid, gameId: '00000000-0000-4000-8000-000000000000' }), 'gameId');
    expectInvalid(await call(t, c.a, 'PATCH', `/games/${gameId}`, { params: [{ key: 'variable_basic_points', value: 'x' }] }), 'params.0.value');
    expectInvalid(await call(t, c.a, 'PATCH', `/games/${gameId}`, { params: [{ id: 'nope', key: 'k', value: 1 }] }), 'params.0.id');
    expectInvalid(await call(t, c.a, 'PATCH', `/games/${gameId}`, { created_at: '2020-01-01' }), 'created_at');
    expectProblem(await call(t, c.a, 'PATCH', `/games/${gameId}`, {}), 422, 'Empty patch: no fields provided.');
    expectInvalid(await post(`/games/${gameId}/duplicate`, { externalGameId: 'no' }), 'externalGameId');
  });

  it('lists: page, page_size, ordering and unknown query parameters', async () => {
    expectInvalid(await call(t, c.a, 'GET', '/games?page=0'), 'page');
    expectInvalid(await call(t, c.a, 'GET', '/games?page_size=101'), 'page_size');
    expectInvalid(await call(t, c.a, 'GET', '/games?page_size=abc'), 'page_size');
    expectInvalid(await call(t, c.a, 'GET', '/games?ordering=owner'), 'ordering');
    expectInvalid(await call(t, c.a, 'GET', '/games?owner=x'), 'owner');
    expectInvalid(await call(t, c.a, 'GET', `/games/${gameId}/tasks?ordering=-platform`), 'ordering');
    expectInvalid(await call(t, c.a, 'GET', `/games/${gameId}/points/details?ordering=points`), 'ordering');
    expectInvalid(await call(t, c.a, 'GET', `/games/${gameId}/tasks/${task.externalTaskId}/points/details?page_size=0`), 'page_size');
  });

  it('lists: a bad query is 422 before the game or task is looked up (API.md §2 order: validation, then 404, then 403)', async () => {
    const unknownGame = '00000000-0000-4000-8000-000000000000';
    for (const [caller, game, externalTaskId] of [
      [c.a, unknownGame, task.externalTaskId], // no such game: 422, not 404
      [c.b, gameId, task.externalTaskId], // another tenant's game: 422, not 403
      [c.a, gameId, 'no_such_task'], // no such task: 422, not 404
    ] as const) {
      if (externalTaskId === task.externalTaskId) {
        expectInvalid(await call(t, caller, 'GET', `/games/${game}/tasks?ordering=bogus`), 'ordering');
        expectInvalid(await call(t, caller, 'GET', `/games/${game}/points/details?ordering=bogus`), 'ordering');
      }
      expectInvalid(await call(t, caller, 'GET', `/games/${game}/tasks/${externalTaskId}/points/details?ordering=bogus`), 'ordering');
      expectInvalid(await call(t, caller, 'GET', `/games/${game}/tasks/${externalTaskId}/points/details?page=0`), 'page');
    }
    // With a valid query, the lookups answer as before.
    expectProblem(await call(t, c.a, 'GET', `/games/${unknownGame}/tasks`), 404);
    expectProblem(await call(t, c.b, 'GET', `/games/${gameId}/tasks`), 403);
    expectProblem(await call(t, c.a, 'GET', `/games/${gameId}/tasks/no_such_task/points/details`), 404);
  });

  it('tasks: externalTaskId, status, strategyId, params, bulk size, empty patch', async () => {
    const path = `/games/${gameId}/tasks`;
    expectInvalid(await post(path, {}), 'externalTaskId');
    expectInvalid(await post(path, { externalTaskId: '' }), 'externalTaskId');
    expectInvalid(await post(path, { externalTaskId: 'x'.repeat(101) }), 'externalTaskId');
    expectInvalid(await post(path, { externalTaskId: 'ok', status: 'paused' }), 'status');
    expectInvalid(await post(path, { externalTaskId: 'ok', params: [{ key: 'variable_basic_points', value: false }] }), 'params.0.value');
    expectInvalid(await post(path, { externalTaskId: 'ok', taskId: 'x' }), 'taskId');
    expectInvalid(await post(`${path}/bulk`, { tasks: 'all' }), 'tasks');
    expectInvalid(await post(`${path}/bulk`, {}), 'tasks');
    expectInvalid(await post(`${path}/bulk`, { tasks: [{ externalTaskId: 'fine' }, { status: 'open' }] }), 'tasks.1.externalTaskId');
    expectProblem(await call(t, c.a, 'PATCH', `${path}/${task.taskId}`, {}), 422, 'Empty patch: no fields provided.');
    expectInvalid(await call(t, c.a, 'PATCH', `${path}/${task.taskId}`, { externalTaskId: 'renamed' }), 'externalTaskId');
    expectInvalid(await call(t, c.a, 'PATCH', `${path}/${task.taskId}`, { status: 'done' }), 'status');
    expectInvalid(await post(`${path}/${task.taskId}/duplicate`, {}), 'externalTaskId');
  });

  it('awards: externalUserId slug, data object ≤ 16 KiB, isSimulated boolean, unknown fields, header length', async () => {
    const path = `/games/${gameId}/tasks/${task.externalTaskId}/points`;
    for (const externalUserId of ['', 'a'.repeat(101), 'bad id', 'x/y', 7]) expectInvalid(await post(path, { externalUserId }), 'externalUserId');
    expectInvalid(await post(path, {}), 'externalUserId');
    for (const data of [[1, 2], 'text', 5, null]) expectInvalid(await post(path, { externalUserId: 'u1', data }), 'data');
    expectInvalid(await post(path, { externalUserId: 'u1', data: { blob: 'x'.repeat(16 * 1024) } }), 'data');
    expect((await post(path, { externalUserId: 'u1', data: { blob: 'x'.repeat(16 * 1024 - 20) } })).status).toBe(201);
    expectInvalid(await post(path, { externalUserId: 'u1', isSimulated: 'yes' }), 'isSimulated');
    expectInvalid(await post(path, { externalUserId: 'u1', points: 1000 }), 'points');
    expectInvalid(await award(t, c.a, gameId, task.externalTaskId, { externalUserId: 'u1' }, { 'Idempotency-Key': 'k'.repeat(256) }), 'Idempotency-Key');
    expect((await award(t, c.a, gameId, task.externalTaskId, { externalUserId: 'u1' }, { 'Idempotency-Key': 'k'.repeat(255) })).status).toBe(201);
    // Validation comes before the game lookup (API.md §2 order of checks).
    expectInvalid(await post('/games/00000000-0000-4000-8000-000000000000/tasks/x/points', { externalUserId: 'bad id' }), 'externalUserId');
  });

  it('refuses NUL characters (PostgreSQL cannot store them) instead of failing with a 500', async () => {
    expectInvalid(await post('/games', { externalGameId: 'nul_game', platform: 'a\u0000b' }), 'platform');
    expectInvalid(await post(`/games/${gameId}/tasks/${task.externalTaskId}/points`, { externalUserId: 'u1', data: { note: 'a\u0000' } }), 'data');
    expectInvalid(await post(`/games/${gameId}/tasks/${task.externalTaskId}/points`, { externalUserId: 'u1', data: { 'k\u0000': 1 } }), 'data');
    expectInvalid(await post('/games', { externalGameId: 'nul_game', platform: 'web', params: [{ key: 'k', value: '\u0000' }] }), 'params.0.value');
    expectInvalid(await post(`/games/${gameId}/tasks`, { externalTaskId: '\u0000' }), 'externalTaskId');
    expectInvalid(await call(t, c.a, 'GET', '/games?platform=%00'), 'platform');
    expectProblem(await call(t, c.a, 'GET', `/games/${gameId}/tasks/%00`), 404);
    expectProblem(await call(t, c.a, 'GET', `/games/${gameId}/users/%00/points`), 404);
    expectProblem(await call(t, c.a, 'GET', '/users/%00/wallet'), 404);
  });

  it('answers malformed JSON with 400', async () => {
    const response = await t.request(`/api/v1/games/${gameId}/tasks/${task.externalTaskId}/points`, {
      method: 'POST',
      headers: { 'x-api-key': c.a.key!, 'content-type': 'application/json' },
      body: '{"externalUserId": ',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
  });

  it('checks credentials and the key scope before reading a malformed body (API.md §2: 401/403 before 400/415)', async () => {
    const readOnly = await createApiKey(t, { scopes: ['read'] });
    const revoked = await createApiKey(t);
    expect((await call(t, c.admin, 'DELETE', `/apikey/${revoked.prefix}`)).status).toBe(200);
    const send = async (caller: Caller, path: string, body: string) => {
      const response = await t.request(`/api/v1${path}`, { method: 'POST', headers: headersOf(caller, { 'content-type': 'application/json' }), body });
      return { status: response.status, detail: ((await response.json()) as { detail: string }).detail };
    };
    const points = `/games/${gameId}/tasks/${task.externalTaskId}/points`;
    for (const [path, body] of [
      [points, '{"externalUserId": '],
      ['/games', '{"externalGameId": "x", '],
      ['/games', ''], // empty
      ['/games', '{"__proto__": {"polluted": true}}'], // prototype poisoning: refused as malformed
      [`/games/${gameId}/tasks`, '[1, 2'],
    ]) {
      expect(await send({}, path, body)).toEqual({ status: 401, detail: 'Invalid authentication credentials' });
      expect(await send({ key: revoked.key }, path, body)).toEqual({ status: 403, detail: 'API key is inactive. Please contact an admin.' });
      expect(await send({ key: readOnly.key }, path, body)).toEqual({ status: 403, detail: 'API key does not have the write scope.' });
      expect(await send({ key: c.a.key, token: 'not.a.jwt' }, path, body)).toMatchObject({ status: 401 });
      expect((await send(c.a, path, body)).status).toBe(400);
    }
    // A media type the API does not take (or none at all) is 415 — after the same checks.
    const sendAs = async (caller: Caller, contentType: string | undefined) => {
      const headers = headersOf(caller, contentType ? { 'content-type': contentType } : {});
      return (await t.request(`/api/v1${points}`, { method: 'POST', headers, body: new Blob(['<award user="u1"/>']) })).status;
    };
    for (const contentType of ['application/xml', 'multipart/form-data; boundary=x', undefined]) {
      expect(await sendAs({}, contentType)).toBe(401);
      expect(await sendAs({ key: revoked.key }, contentType)).toBe(403);
      expect(await sendAs({ key: readOnly.key }, contentType)).toBe(403);
      expect(await sendAs(c.a, contentType)).toBe(415);
    }
    // An admin-only route: a key alone is 401, a non-admin bearer 403, the admin 400.
    expect((await send(c.a, '/apikey/create', '{')).status).toBe(401);
    expect((await send(c.alice, '/apikey/create', '{')).status).toBe(403);
    expect((await send(c.admin, '/apikey/create', '{')).status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('actions: typeAction, externalUserId, data, description', async () => {
    const path = `/games/${gameId}/tasks/${task.externalTaskId}/action`;
    expectInvalid(await post(path, { externalUserId: 'u1' }), 'typeAction');
    expectInvalid(await post(path, { typeAction: '', externalUserId: 'u1' }), 'typeAction');
    expectInvalid(await post(path, { typeAction: 't'.repeat(101), externalUserId: 'u1' }), 'typeAction');
    expectInvalid(await post(path, { typeAction: 'ok' }), 'externalUserId');
    expectInvalid(await post(path, { typeAction: 'ok', externalUserId: 'u1', data: [] }), 'data');
    expectInvalid(await post(path, { typeAction: 'ok', externalUserId: 'u1', description: 'd'.repeat(1001) }), 'description');
    const created = await post(path, { typeAction: 'ok', externalUserId: 'u1', data: { a: 1 } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ typeAction: 'ok', data: { a: 1 }, description: null, externalUserId: 'u1', message: 'Action added successfully' });
    expectInvalid(await post('/users/u1/actions', { typeAction: 'ok', externalUserId: 'u1' }), 'externalUserId');
    expectInvalid(await post('/users/bad%20id/actions', { typeAction: 'ok' }), 'externalUserId');
  });

  it('users: points query body, tenant, convert', async () => {
    expectInvalid(await post('/users/points/query', { ids: ['u1'] }), 'body');
    expectInvalid(await post('/users/points/query', Array.from({ length: 101 }, (_, index) => `u${index}`)), 'body');
    expectInvalid(await post('/users/points/query', ['fine', 'bad id', 3]), '1', '2');
    expect((await post('/users/points/query', [])).body).toEqual([]);
    expectInvalid(await call(t, c.admin, 'GET', '/users/u1/wallet?tenant=everyone'), 'tenant');
    expectInvalid(await call(t, c.a, 'GET', '/users/u1/wallet?other=1'), 'other');
    expectInvalid(await post('/users/u1/convert', {}), 'points');
    expectInvalid(await call(t, c.a, 'GET', '/users/u1/convert/preview?points=-1'), 'points');
  });
});
