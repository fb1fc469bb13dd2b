import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { award, call, cast, createGame, createTask, db, expectProblem, type Caller, type Cast } from './core-helpers.js';

const unique = () => Math.random().toString(36).slice(2, 10);

interface Route {
  name: string;
  method: string;
  path: (game: Fixture) => string;
  body?: () => unknown;
  ok: number;
}

interface Fixture {
  gameId: string;
  taskId: string;
  externalTaskId: string;
  spareTaskIds: string[];
}

// Every route under a game, each with a fresh body; `ok` is the status of an allowed caller.
const ROUTES: Route[] = [
  { name: 'GET game', method: 'GET', path: (g) => `/games/${g.gameId}`, ok: 200 },
  { name: 'PATCH game', method: 'PATCH', path: (g) => `/games/${g.gameId}`, body: () => ({ platform: `p-${unique()}` }), ok: 200 },
  { name: 'duplicate game', method: 'POST', path: (g) => `/games/${g.gameId}/duplicate`, body: () => ({ externalGameId: `copy_${unique()}` }), ok: 201 },
  { name: 'game strategy', method: 'GET', path: (g) => `/games/${g.gameId}/strategy`, ok: 200 },
  { name: 'game users', method: 'GET', path: (g) => `/games/${g.gameId}/users`, ok: 200 },
  { name: 'list tasks', method: 'GET', path: (g) => `/games/${g.gameId}/tasks`, ok: 200 },
  { name: 'create task', method: 'POST', path: (g) => `/games/${g.gameId}/tasks`, body: () => ({ externalTaskId: `t_${unique()}` }), ok: 201 },
  { name: 'bulk tasks', method: 'POST', path: (g) => `/games/${g.gameId}/tasks/bulk`, body: () => ({ tasks: [{ externalTaskId: `b_${unique()}` }] }), ok: 200 },
  { name: 'GET task', method: 'GET', path: (g) => `/games/${g.gameId}/tasks/${g.externalTaskId}`, ok: 200 },
  { name: 'PATCH task', method: 'PATCH', path: (g) => `/games/${g.gameId}/tasks/${g.taskId}`, body: () => ({ status: 'open' }), ok: 200 },
  { name: 'duplicate task', method: 'POST', path: (g) => `/games/${g.gameId}/tasks/${g.taskId}/duplicate`, body: () => ({ externalTaskId: `d_${unique()}` }), ok: 201 },
  { name: 'award', method: 'POST', path: (g) => `/games/${g.gameId}/tasks/${g.externalTaskId}/points`, body: () => ({ externalUserId: 'user_1' }), ok: 201 },
  { name: 'task action', method: 'POST', path: (g) => `/games/${g.gameId}/tasks/${g.externalTaskId}/action`, body: () => ({ typeAction: 'clicked', externalUserId: 'user_1' }), ok: 201 },
  { name: 'game points', method: 'GET', path: (g) => `/games/${g.gameId}/points`, ok: 200 },
  { name: 'game points details', method: 'GET', path: (g) => `/games/${g.gameId}/points/details`, ok: 200 },
  { name: 'user points in game', method: 'GET', path: (g) => `/games/${g.gameId}/users/user_1/points`, ok: 200 },
  { name: 'task points', method: 'GET', path: (g) => `/games/${g.gameId}/tasks/${g.externalTaskId}/points`, ok: 200 },
  { name: 'task points details', method: 'GET', path: (g) => `/games/${g.gameId}/tasks/${g.externalTaskId}/points/details`, ok: 200 },
  { name: 'task user points', method: 'GET', path: (g) => `/games/${g.gameId}/tasks/${g.externalTaskId}/users/user_1/points`, ok: 200 },
  { name: 'DELETE task', method: 'DELETE', path: (g) => `/games/${g.gameId}/tasks/${g.spareTaskIds.pop()}`, ok: 200 },
];

describe('tenancy (API.md §2)', () => {
  let t: TestApp;
  let c: Cast;
  let keyGame: Fixture;
  let subjectGame: Fixture;

  async function fixture(owner: Caller): Promise<Fixture> {
    const game = await createGame(t, owner);
    const task = await createTask(t, owner, game.gameId);
    const spares = await Promise.all(Array.from({ length: 6 }, () => createTask(t, owner, game.gameId)));
    expect((await award(t, owner, game.gameId, task.externalTaskId, { externalUserId: 'user_1' })).status).toBe(201);
    return { gameId: game.gameId, taskId: task.taskId, externalTaskId: task.externalTaskId, spareTaskIds: spares.map((spare) => spare.taskId) };
  }

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMITS_ENABLED: 'false' });
    c = await cast(t);
    keyGame = await fixture(c.a);
    subjectGame = await fixture(c.alice);
  });
  afterAll(async () => {
    await t?.close();
  });

  const matrix = (owner: () => Fixture, allowed: Array<[string, () => Caller]>, refused: Array<[string, () => Caller]>) => {
    for (const route of ROUTES) {
      it(`${route.name}: ${allowed.map(([name]) => name).join(', ')} allowed; ${refused.map(([name]) => name).join(', ')} refused`, async () => {
        for (const [name, caller] of refused) {
          const answer = await call(t, caller(), route.method, route.path({ ...owner(), spareTaskIds: [...owner().spareTaskIds] }), route.body?.());
          expect({ name, status: answer.status, detail: answer.body?.detail }).toEqual({
            name,
            status: 403,
            detail: 'You do not have permission to access this game',
          });
        }
        for (const [name, caller] of allowed) {
          const answer = await call(t, caller(), route.method, route.path(owner()), route.body?.());
          expect({ name, status: answer.status }, JSON.stringify(answer.body)).toEqual({ name, status: route.ok });
        }
      });
    }
  };

  describe('a game owned by key A', () => {
    matrix(
      () => keyGame,
      [
        ['key A', () => c.a],
        ['admin', () => c.admin],
      ],
      [
        ['key B', () => c.b],
        ['subject alice', () => c.alice],
        ['subject bob', () => c.bob],
      ],
    );
  });

  describe('a game owned by subject alice', () => {
    matrix(
      () => subjectGame,
      [
        ['subject alice', () => c.alice],
        ['admin', () => c.admin],
      ],
      [
        ['key A', () => c.a],
        ['key B', () => c.b],
        ['subject bob', () => c.bob],
        // With a key, the key is the owner even beside alice's own token.
        ['key B + alice', () => ({ key: c.b.key, token: c.alice.token })],
      ],
    );
  });

  it('answers 404 for unknown, malformed and deleted games, whoever asks', async () => {
    const doomed = await createGame(t, c.a);
    await call(t, c.a, 'DELETE', `/games/${doomed.gameId}`);
    for (const gameId of ['00000000-0000-4000-8000-000000000000', 'not-a-uuid', "1'; DROP TABLE games;--", doomed.gameId]) {
      for (const caller of [c.a, c.b, c.alice, c.admin]) {
        const answer = await call(t, caller, 'GET', `/games/${encodeURIComponent(gameId)}`);
        expectProblem(answer, 404, `Game not found by gameId: ${gameId}`);
        expectProblem(await call(t, caller, 'POST', `/games/${encodeURIComponent(gameId)}/tasks/x/points`, { externalUserId: 'u' }), 404, `Game not found by gameId: ${gameId}`);
      }
    }
  });

  it('lists only the caller’s games; an admin sees all', async () => {
    const ids = async (caller: Caller) =>
      ((await call(t, caller, 'GET', '/games?page_size=100')).body.items as Array<{ gameId: string }>).map((game) => game.gameId);
    expect(await ids(c.a)).toContain(keyGame.gameId);
    expect(await ids(c.a)).not.toContain(subjectGame.gameId);
    expect(await ids(c.b)).not.toContain(keyGame.gameId);
    expect(await ids(c.alice)).toContain(subjectGame.gameId);
    expect(await ids(c.alice)).not.toContain(keyGame.gameId);
    expect(await ids(c.bob)).toEqual([]);
    expect(await ids(c.admin)).toEqual(expect.arrayContaining([keyGame.gameId, subjectGame.gameId]));
  });

  it('stamps rows with the key id and/or the token subject, and keeps ownership out of bodies', async () => {
    const both = { key: c.a.key, token: c.bob.token };
    const game = await createGame(t, both);
    const [row] = await db(t).query(`SELECT owner, api_key_used, oauth_user_id FROM games WHERE id = $1`, [game.gameId]);
    expect(row).toEqual({ owner: `key:${c.keyA.id}`, api_key_used: c.keyA.id, oauth_user_id: 'bob' });
    const [audit] = await db(t).query(`SELECT module, message, api_key_used, oauth_user_id FROM audit_logs WHERE details->>'gameId' = $1`, [game.gameId]);
    expect(audit).toEqual({ module: 'games', message: 'Game created', api_key_used: c.keyA.id, oauth_user_id: 'bob' });
    for (const field of ['owner', 'apiKeyUsed', 'oauthUserId']) {
      const answer = await call(t, c.a, 'POST', '/games', { externalGameId: `g_${unique()}`, platform: 'web', [field]: 'x' });
      expect(answer.status).toBe(422);
      expect(answer.body.errors.map((error: { field: string }) => error.field)).toContain(field);
    }
  });

  it('keeps externalGameId unique per owner only', async () => {
    expect((await call(t, c.a, 'POST', '/games', { externalGameId: 'shared_name', platform: 'web' })).status).toBe(201);
    expect((await call(t, c.b, 'POST', '/games', { externalGameId: 'shared_name', platform: 'web' })).status).toBe(201);
    expect((await call(t, c.alice, 'POST', '/games', { externalGameId: 'shared_name', platform: 'web' })).status).toBe(201);
    expectProblem(await call(t, c.a, 'POST', '/games', { externalGameId: 'shared_name', platform: 'web' }), 409, 'Game already exists with externalGameId: shared_name');
  });

  describe('users in namespaces', () => {
    let gameA: string;
    let gameB: string;
    let taskA: string;
    let taskB: string;
    beforeAll(async () => {
      gameA = (await createGame(t, c.a, { params: [{ key: 'variable_basic_points', value: 3 }] })).gameId;
      gameB = (await createGame(t, c.b, { params: [{ key: 'variable_basic_points', value: 5 }] })).gameId;
      taskA = (await createTask(t, c.a, gameA)).externalTaskId;
      taskB = (await createTask(t, c.b, gameB)).externalTaskId;
      expect((await award(t, c.a, gameA, taskA, { externalUserId: 'twin' })).body.isACreatedUser).toBe(true);
      expect((await award(t, c.b, gameB, taskB, { externalUserId: 'twin' })).body.isACreatedUser).toBe(true);
    });

    it('keeps two tenants’ user with the same externalUserId apart', async () => {
      expect((await call(t, c.a, 'GET', '/users/twin/wallet')).body.wallet.pointsBalance).toBe(3);
      expect((await call(t, c.b, 'GET', '/users/twin/wallet')).body.wallet.pointsBalance).toBe(5);
      expect((await call(t, c.a, 'GET', '/users/twin/points')).body).toEqual([
        { externalGameId: expect.any(String), points: 3, timesAwarded: 1, task: [{ externalTaskId: taskA, points: 3, timesAwarded: 1 }] },
      ]);
      const query = await call(t, c.b, 'POST', '/users/points/query', ['twin', 'ghost']);
      expect(query.status).toBe(200);
      expect(query.body).toEqual([
        { externalUserId: 'twin', points: 5, timesAwarded: 1, games: [{ externalGameId: expect.any(String), points: 5, timesAwarded: 1 }], userExists: true },
        { externalUserId: 'ghost', points: 0, timesAwarded: 0, games: [], userExists: false },
      ]);
      const [{ n }] = await db(t).query(`SELECT count(*)::int AS n FROM users WHERE external_user_id = 'twin'`);
      expect(n).toBe(2);
    });

    it('uses the caller’s own namespace on /users routes; a subject’s users are not a key’s', async () => {
      // alice's game put user_1 in alice's namespace; key A's game put another user_1 in key A's.
      expect((await call(t, c.alice, 'GET', '/users/user_1/wallet')).status).toBe(200);
      expectProblem(await call(t, c.bob, 'GET', '/users/user_1/wallet'), 404, 'Not found externalUserId : user_1');
      expectProblem(await call(t, c.b, 'GET', '/users/user_1/points'), 404, 'Not found externalUserId : user_1');
      expectProblem(await call(t, c.admin, 'GET', '/users/twin/wallet'), 404, 'Not found externalUserId : twin');
    });

    it('lets only an admin act in another namespace with ?tenant=', async () => {
      const viaKey = await call(t, c.admin, 'GET', `/users/twin/wallet?tenant=key:${c.keyB.prefix}`);
      expect(viaKey.body.wallet.pointsBalance).toBe(5);
      expect((await call(t, c.admin, 'GET', '/users/user_1/points?tenant=sub:alice')).status).toBe(200);
      expect((await call(t, c.admin, 'POST', `/users/twin/convert?tenant=key:${c.keyA.prefix}`, { points: 1 })).status).toBe(201);
      expect((await call(t, c.admin, 'POST', `/users/points/query?tenant=key:${c.keyA.prefix}`, ['twin'])).body[0].points).toBe(3);
      expectProblem(await call(t, c.admin, 'GET', '/users/twin/wallet?tenant=key:qk_live_00000000'), 404, 'API key not found: qk_live_00000000');
      expectProblem(await call(t, c.a, 'GET', `/users/twin/wallet?tenant=key:${c.keyB.prefix}`), 403, 'You do not have permission to access this user');
      expectProblem(await call(t, c.bob, 'GET', '/users/user_1/wallet?tenant=sub:alice'), 403, 'You do not have permission to access this user');
      expectProblem(await call(t, c.a, 'POST', `/users/twin/actions?tenant=key:${c.keyB.prefix}`, { typeAction: 'x' }), 403, 'You do not have permission to access this user');
      // Naming one's own namespace is fine.
      expect((await call(t, c.a, 'GET', `/users/twin/wallet?tenant=key:${c.keyA.prefix}`)).status).toBe(200);
      expect((await call(t, c.alice, 'GET', '/users/user_1/wallet?tenant=sub:alice')).status).toBe(200);
    });

    it('answers every /users route per namespace: the owner 200, everyone else 404 (or userExists: false), an admin with ?tenant= 200', async () => {
      // "user_1" exists in key A's namespace (from key A's game) and in alice's (from alice's game), nowhere else.
      const routes: Array<[string, string, unknown?]> = [
        ['GET', '/users/user_1/points'],
        ['GET', '/users/user_1/wallet'],
        ['GET', '/users/user_1/convert/preview?points=1'],
        ['POST', '/users/user_1/convert', { points: 1 }],
      ];
      const owners: Array<[string, Caller, string]> = [
        ['key A', c.a, ''],
        ['subject alice', c.alice, ''],
        ['admin as key A', c.admin, `tenant=key:${c.keyA.prefix}`],
        ['admin as alice', c.admin, 'tenant=sub:alice'],
      ];
      const strangers: Array<[string, Caller]> = [
        ['key B', c.b],
        ['subject bob', c.bob],
        ['admin (own namespace)', c.admin],
      ];
      for (const [method, path, body] of routes) {
        const withQuery = (query: string) => (query ? `${path}${path.includes('?') ? '&' : '?'}${query}` : path);
        for (const [name, caller, query] of owners) {
          const answer = await call(t, caller, method, withQuery(query), body);
          expect({ name, path, status: answer.status }).toEqual({ name, path, status: method === 'POST' ? 201 : 200 });
        }
        for (const [name, caller] of strangers) {
          const answer = await call(t, caller, method, path, body);
          expect({ name, path, status: answer.status, detail: answer.body.detail }).toEqual({ name, path, status: 404, detail: 'Not found externalUserId : user_1' });
        }
      }
      for (const [name, caller, query] of owners) {
        const answer = await call(t, caller, 'POST', `/users/points/query${query ? `?${query}` : ''}`, ['user_1']);
        expect({ name, exists: answer.body[0].userExists }).toEqual({ name, exists: true });
      }
      for (const [name, caller] of strangers) {
        const answer = await call(t, caller, 'POST', '/users/points/query', ['user_1']);
        expect({ name, exists: answer.body[0].userExists }).toEqual({ name, exists: false });
      }
    });

    it('records standalone actions in the caller’s namespace, stamped with the real caller', async () => {
      const answer = await call(t, c.a, 'POST', '/users/twin/actions', { typeAction: 'opened_app', data: { screen: 'home' }, description: 'd' });
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({ typeAction: 'opened_app', data: { screen: 'home' }, description: 'd', externalUserId: 'twin', message: 'Action added successfully' });
      const [row] = await db(t).query(
        `SELECT u.owner, a.api_key_used, a.oauth_user_id, a.game_id FROM user_actions a JOIN users u ON u.id = a.user_id WHERE a.id = $1`,
        [answer.body.id],
      );
      expect(row).toEqual({ owner: `key:${c.keyA.id}`, api_key_used: c.keyA.id, oauth_user_id: null, game_id: null });
    });
  });

  it('DELETE game: owner and admin only; afterwards the game and its tasks are gone from every read', async () => {
    for (const caller of [c.b, c.alice, c.bob]) expectProblem(await call(t, caller, 'DELETE', `/games/${keyGame.gameId}`), 403, 'You do not have permission to access this game');
    const deleted = await call(t, c.admin, 'DELETE', `/games/${keyGame.gameId}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ gameId: keyGame.gameId });
    expectProblem(await call(t, c.a, 'GET', `/games/${keyGame.gameId}/points`), 404, `Game not found by gameId: ${keyGame.gameId}`);
    const [{ n }] = await db(t).query(`SELECT count(*)::int AS n FROM tasks WHERE game_id = $1 AND deleted_at IS NULL`, [keyGame.gameId]);
    expect(n).toBe(0);
    expect((await call(t, c.alice, 'DELETE', `/games/${subjectGame.gameId}`)).status).toBe(200);
  });
});
