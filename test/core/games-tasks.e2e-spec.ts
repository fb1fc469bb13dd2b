import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { award, call, cast, createGame, createTask, db, expectInvalid, expectProblem, type Cast } from './core-helpers.js';

describe('games, tasks and strategies', () => {
  let t: TestApp;
  let c: Cast;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMITS_ENABLED: 'false' });
    c = await cast(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('strategies (public)', () => {
    it('lists, describes and documents the built-ins without credentials', async () => {
      const list = await call(t, {}, 'GET', '/strategies');
      expect(list.status).toBe(200);
      expect(list.body.map((strategy: { id: string }) => strategy.id)).toEqual(['default', 'constantEffortStrategy']);
      const one = await call(t, {}, 'GET', '/strategies/default');
      expect(one.body).toMatchObject({ id: 'default', name: 'EnhancedGamificationStrategy', version: '0.0.2' });
      expect(one.body.variables[0]).toEqual({ name: 'variable_basic_points', type: 'integer', defaultValue: 1 });
      const schema = await call(t, {}, 'GET', '/strategies/constantEffortStrategy/schema');
      expect(schema.body.jsonSchema.properties.variable_max_points).toEqual({ type: 'integer', default: 100 });
      expectProblem(await call(t, {}, 'GET', '/strategies/nope'), 404, 'Strategy not found with id: nope');
      expectProblem(await call(t, {}, 'GET', '/strategies/nope/schema'), 404, 'Strategy not found with id: nope');
      // A credential that is sent must still be valid.
      expect((await call(t, { key: 'qk_live_nothing0.bad' }, 'GET', '/strategies')).status).toBe(403);
    });
  });

  describe('games', () => {
    it('creates a game with GAME’s message and reads it back', async () => {
      const created = await call(t, c.a, 'POST', '/games', { externalGameId: 'Spring-2026_x', platform: 'web', params: [{ key: 'variable_basic_points', value: 4 }, { key: 'theme', value: 'green' }] });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        externalGameId: 'Spring-2026_x',
        platform: 'web',
        strategyId: 'default',
        params: [
          { key: 'variable_basic_points', value: 4 },
          { key: 'theme', value: 'green' },
        ],
        message: `Game with gameId: ${created.body.gameId} created successfully`,
      });
      expect(created.body.created_at).toMatch(/Z$/);
      const read = await call(t, c.a, 'GET', `/games/${created.body.gameId}`);
      const { message: _message, ...game } = created.body;
      expect(read.body).toEqual(game);
      expectProblem(await call(t, c.a, 'POST', '/games', { externalGameId: 'x_y_z', platform: 'web', strategyId: 'nope' }), 404, 'Strategy with id: nope not found');
    });

    it('patches fields and params (by id or by key); unknown param ids are 404', async () => {
      const game = await createGame(t, c.a, { params: [{ key: 'variable_basic_points', value: 4 }] });
      const paramId = game.params[0].id;
      const patched = await call(t, c.a, 'PATCH', `/games/${game.gameId}`, {
        platform: 'ios',
        strategyId: 'default',
        params: [
          { id: paramId, key: 'variable_basic_points', value: 6 },
          { key: 'variable_bonus_points', value: 20 },
        ],
      });
      expect(patched.status).toBe(200);
      expect(patched.body.platform).toBe('ios');
      expect(patched.body.params).toEqual([
        { id: paramId, key: 'variable_basic_points', value: 6 },
        { id: expect.any(String), key: 'variable_bonus_points', value: 20 },
      ]);
      expect((await call(t, c.a, 'GET', `/games/${game.gameId}/strategy`)).body.variables).toMatchObject({ variable_basic_points: 6, variable_bonus_points: 20 });
      const missing = '11111111-1111-4111-8111-111111111111';
      expectProblem(await call(t, c.a, 'PATCH', `/games/${game.gameId}`, { params: [{ id: missing, key: 'k', value: 1 }] }), 404, `GameParams not found (id) : ${missing}`);
      // A param of another game is not this game's.
      const other = await createGame(t, c.a, { params: [{ key: 'a', value: 1 }] });
      expectProblem(await call(t, c.a, 'PATCH', `/games/${game.gameId}`, { params: [{ id: other.params[0].id, key: 'a', value: 2 }] }), 404, `GameParams not found (id) : ${other.params[0].id}`);
      expectProblem(await call(t, c.a, 'PATCH', `/games/${game.gameId}`, {}), 422, 'Empty patch: no fields provided.');
      expectProblem(await call(t, c.a, 'PATCH', `/games/${game.gameId}`, { externalGameId: other.externalGameId }), 409, `Game already exists with externalGameId: ${other.externalGameId}`);
      // Params keep their order; a new key is appended, a known key is replaced in place.
      const again = await call(t, c.a, 'PATCH', `/games/${game.gameId}`, { params: [{ key: 'variable_basic_points', value: 1 }, { key: 'zeta', value: 'z' }] });
      expect(again.body.params.map((param: { key: string; value: unknown }) => [param.key, param.value])).toEqual([
        ['variable_basic_points', 1],
        ['variable_bonus_points', 20],
        ['zeta', 'z'],
      ]);
    });

    it('lists with filters, ordering and pagination', async () => {
      for (const [externalGameId, platform] of [
        ['list_b', 'android'],
        ['list_a', 'web'],
        ['list_c', 'web-beta'],
      ]) {
        await call(t, c.b, 'POST', '/games', { externalGameId, platform });
      }
      const byName = await call(t, c.b, 'GET', '/games?ordering=externalGameId&externalGameId=list_');
      expect(byName.body.items.map((game: { externalGameId: string }) => game.externalGameId)).toEqual(['list_a', 'list_b', 'list_c']);
      expect(byName.body.search_options).toEqual({ ordering: 'externalGameId', page: 1, page_size: 10, total_count: 3 });
      const web = await call(t, c.b, 'GET', '/games?platform=web&ordering=-platform');
      expect(web.body.items.map((game: { platform: string }) => game.platform)).toEqual(['web-beta', 'web']);
      const paged = await call(t, c.b, 'GET', '/games?ordering=externalGameId&page=2&page_size=2');
      expect(paged.body.items.map((game: { externalGameId: string }) => game.externalGameId)).toEqual(['list_c']);
      // A page past the end is empty and still tells the total (no row carries it: counted on its own).
      const pastTheEnd = await call(t, c.b, 'GET', '/games?ordering=externalGameId&externalGameId=list_&page=5&page_size=2');
      expect(pastTheEnd.body).toEqual({ items: [], search_options: { ordering: 'externalGameId', page: 5, page_size: 2, total_count: 3 } });
      const newest = await call(t, c.b, 'GET', '/games');
      expect(newest.body.search_options.ordering).toBe('-created_at');
      expect(newest.body.items[0].externalGameId).toBe('list_c');
      const wildcard = await call(t, c.b, 'GET', '/games?externalGameId=%25');
      expect(wildcard.body.items).toEqual([]);
    });

    it('soft-deletes: the game vanishes, its external id can be reused, and awards stay', async () => {
      const game = await createGame(t, c.a, { externalGameId: 'reusable' });
      const task = await createTask(t, c.a, game.gameId);
      await award(t, c.a, game.gameId, task.externalTaskId, { externalUserId: 'keeper' });
      const deleted = await call(t, c.a, 'DELETE', `/games/${game.gameId}`);
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({ gameId: game.gameId, externalGameId: 'reusable' });
      expectProblem(await call(t, c.a, 'GET', `/games/${game.gameId}`), 404, `Game not found by gameId: ${game.gameId}`);
      expectProblem(await call(t, c.a, 'DELETE', `/games/${game.gameId}`), 404);
      expect((await call(t, c.a, 'POST', '/games', { externalGameId: 'reusable', platform: 'web' })).status).toBe(201);
      const [{ n }] = await db(t).query(`SELECT count(*)::int AS n FROM user_points WHERE game_id = $1`, [game.gameId]);
      expect(n).toBe(1);
      expect((await call(t, c.a, 'GET', '/users/keeper/points')).body).toEqual([]);
    });

    it('duplicates a game with its params, tasks and task params into the caller’s namespace', async () => {
      const source = await createGame(t, c.a, { strategyId: 'constantEffortStrategy', params: [{ key: 'variable_max_points', value: 9 }] });
      await createTask(t, c.a, source.gameId, { externalTaskId: 'one', params: [{ key: 'variable_max_points', value: 4 }] });
      await createTask(t, c.a, source.gameId, { externalTaskId: 'two', status: 'closed' });
      const copy = await call(t, c.admin, 'POST', `/games/${source.gameId}/duplicate`, { externalGameId: 'copied' });
      expect(copy.status).toBe(201);
      expect(copy.body).toMatchObject({ externalGameId: 'copied', strategyId: 'constantEffortStrategy', params: [{ key: 'variable_max_points', value: 9 }] });
      expect(copy.body.gameId).not.toBe(source.gameId);
      const [row] = await db(t).query(`SELECT owner FROM games WHERE id = $1`, [copy.body.gameId]);
      expect(row.owner).toBe('sub:admin');
      const tasks = await call(t, c.admin, 'GET', `/games/${copy.body.gameId}/tasks?ordering=externalTaskId`);
      expect(tasks.body.items.map((task: any) => [task.externalTaskId, task.status, task.taskParams.map((param: any) => param.value)])).toEqual([
        ['one', 'open', [4]],
        ['two', 'closed', []],
      ]);
      expectProblem(await call(t, c.admin, 'POST', `/games/${source.gameId}/duplicate`, { externalGameId: 'copied' }), 409, 'Game already exists with externalGameId: copied');
    });

    it('writes audit entries for game and task creates, updates and deletes — not for awards', async () => {
      const game = await createGame(t, c.b);
      const task = await createTask(t, c.b, game.gameId);
      await call(t, c.b, 'PATCH', `/games/${game.gameId}`, { platform: 'x' });
      await call(t, c.b, 'PATCH', `/games/${game.gameId}/tasks/${task.taskId}`, { status: 'closed' });
      await call(t, c.b, 'DELETE', `/games/${game.gameId}/tasks/${task.taskId}`);
      await call(t, c.b, 'DELETE', `/games/${game.gameId}`);
      const rows = await db(t).query(
        `SELECT module, message, api_key_used FROM audit_logs WHERE details->>'gameId' = $1 ORDER BY created_at, message`,
        [game.gameId],
      );
      expect(rows.map((row: { module: string; message: string }) => `${row.module}: ${row.message}`).sort()).toEqual(
        ['games: Game created', 'games: Game deleted', 'games: Game updated', 'tasks: Task created', 'tasks: Task deleted', 'tasks: Task updated'].sort(),
      );
      expect(rows.every((row: { api_key_used: string }) => row.api_key_used === c.keyB.id)).toBe(true);
    });
  });

  describe('tasks', () => {
    let gameId: string;
    beforeAll(async () => {
      gameId = (await createGame(t, c.a, { params: [{ key: 'variable_basic_points', value: 2 }] })).gameId;
    });

    it('creates a task with its effective strategy and params', async () => {
      const created = await call(t, c.a, 'POST', `/games/${gameId}/tasks`, { externalTaskId: 'daily login', params: [{ key: 'variable_basic_points', value: 10 }] });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        externalTaskId: 'daily login',
        gameId,
        status: 'open',
        strategyId: 'default',
        gameParams: [{ key: 'variable_basic_points', value: 2 }],
        taskParams: [{ key: 'variable_basic_points', value: 10 }],
        strategy: { id: 'default', name: 'EnhancedGamificationStrategy', variables: { variable_basic_points: 10, variable_bonus_points: 10 } },
      });
      expect((await call(t, c.a, 'GET', `/games/${gameId}/tasks/${encodeURIComponent('daily login')}`)).body.taskId).toBe(created.body.taskId);
      expectProblem(await call(t, c.a, 'POST', `/games/${gameId}/tasks`, { externalTaskId: 'daily login' }), 409, `Task already exists with externalTaskId: daily login for gameId: ${gameId}`);
      expectProblem(await call(t, c.a, 'GET', `/games/${gameId}/tasks/nope`), 404, `Task not found with externalTaskId: nope for gameId: ${gameId}`);
      expectProblem(await call(t, c.a, 'POST', `/games/${gameId}/tasks`, { externalTaskId: 'x', strategyId: 'nope' }), 404, 'Strategy with id: nope not found');
    });

    it('bulk-creates up to 500 tasks, reporting the ones it cannot create', async () => {
      await createTask(t, c.a, gameId, { externalTaskId: 'existing' });
      const bulk = await call(t, c.a, 'POST', `/games/${gameId}/tasks/bulk`, {
        tasks: [
          { externalTaskId: 'bulk_1', params: [{ key: 'variable_basic_points', value: 3 }] },
          { externalTaskId: 'existing' },
          { externalTaskId: 'bulk_2', strategyId: 'constantEffortStrategy', status: 'closed' },
          { externalTaskId: 'bulk_1' },
          { externalTaskId: 'bulk_3', strategyId: 'nope' },
          { externalTaskId: 'bulk_4', params: [{ key: 'variable_basic_points', value: 'three' }] },
        ],
      });
      expect(bulk.status).toBe(200);
      expect(bulk.body.succesfully_created.map((task: any) => [task.externalTaskId, task.strategyId, task.status, task.taskParams.length])).toEqual([
        ['bulk_1', 'default', 'open', 1],
        ['bulk_2', 'constantEffortStrategy', 'closed', 0],
      ]);
      expect(bulk.body.failed_to_create.map((failure: any) => [failure.task.externalTaskId, failure.error])).toEqual([
        ['bulk_1', `Task already exists with externalTaskId: bulk_1 for gameId: ${gameId}`],
        ['bulk_3', 'Strategy with id: nope not found'],
        ['bulk_4', expect.stringContaining('params.0.value')],
        ['existing', `Task already exists with externalTaskId: existing for gameId: ${gameId}`],
      ]);
      const many = await call(t, c.a, 'POST', `/games/${(await createGame(t, c.a)).gameId}/tasks/bulk`, {
        tasks: Array.from({ length: 500 }, (_, index) => ({ externalTaskId: `many_${index}` })),
      });
      expect(many.body.succesfully_created).toHaveLength(500);
      expectInvalid(await call(t, c.a, 'POST', `/games/${gameId}/tasks/bulk`, { tasks: Array.from({ length: 501 }, (_, index) => ({ externalTaskId: `x${index}` })) }), 'tasks');
      expectInvalid(await call(t, c.a, 'POST', `/games/${gameId}/tasks/bulk`, { tasks: [{ externalTaskId: '' }] }), 'tasks.0.externalTaskId');
      expectProblem(await call(t, c.a, 'POST', '/games/00000000-0000-4000-8000-000000000000/tasks/bulk', { tasks: [] }), 404);
    });

    it('lists only this game’s tasks, with allow-listed ordering', async () => {
      const other = await createGame(t, c.a);
      await createTask(t, c.a, other.gameId, { externalTaskId: 'elsewhere' });
      const list = await call(t, c.a, 'GET', `/games/${gameId}/tasks?ordering=-externalTaskId&page_size=100`);
      const names = list.body.items.map((task: { externalTaskId: string }) => task.externalTaskId);
      expect(names).not.toContain('elsewhere');
      expect(names).toEqual([...names].sort().reverse());
      expect(list.body.search_options.total_count).toBe(names.length);
      const byStatus = await call(t, c.a, 'GET', `/games/${gameId}/tasks?ordering=-status&page_size=100`);
      expect(byStatus.body.items.at(-1).status).toBe('closed');
    });

    it('patches status, strategy and the full set of params; 404 for unknown or foreign task ids', async () => {
      const task = await createTask(t, c.a, gameId, { params: [{ key: 'a', value: 1 }, { key: 'b', value: 2 }] });
      const patched = await call(t, c.a, 'PATCH', `/games/${gameId}/tasks/${task.taskId}`, { status: 'closed', strategyId: 'constantEffortStrategy', params: [{ key: 'c', value: true }] });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ status: 'closed', strategyId: 'constantEffortStrategy', taskParams: [{ key: 'c', value: true }] });
      expectProblem(await call(t, c.a, 'PATCH', `/games/${gameId}/tasks/${task.taskId}`, {}), 422, 'Empty patch: no fields provided.');
      expectProblem(await call(t, c.a, 'PATCH', `/games/${gameId}/tasks/not-a-uuid`, { status: 'open' }), 404, 'Task not found by taskId: not-a-uuid');
      const foreign = await createTask(t, c.a, (await createGame(t, c.a)).gameId);
      expectProblem(await call(t, c.a, 'PATCH', `/games/${gameId}/tasks/${foreign.taskId}`, { status: 'open' }), 404, `Task not found by taskId: ${foreign.taskId}`);
      expectProblem(await call(t, c.a, 'DELETE', `/games/${gameId}/tasks/${foreign.taskId}`), 404, `Task not found by taskId: ${foreign.taskId}`);
    });

    it('deletes (soft) and duplicates tasks', async () => {
      const task = await createTask(t, c.a, gameId, { externalTaskId: 'dup_me', params: [{ key: 'variable_basic_points', value: 5 }] });
      const copy = await call(t, c.a, 'POST', `/games/${gameId}/tasks/${task.taskId}/duplicate`, { externalTaskId: 'dup_copy' });
      expect(copy.status).toBe(201);
      expect(copy.body).toMatchObject({ externalTaskId: 'dup_copy', taskParams: [{ key: 'variable_basic_points', value: 5 }] });
      expectProblem(await call(t, c.a, 'POST', `/games/${gameId}/tasks/${task.taskId}/duplicate`, { externalTaskId: 'dup_copy' }), 409);
      await award(t, c.a, gameId, 'dup_me', { externalUserId: 'dup_user' });
      const deleted = await call(t, c.a, 'DELETE', `/games/${gameId}/tasks/${task.taskId}`);
      expect(deleted.status).toBe(200);
      expect(deleted.body.externalTaskId).toBe('dup_me');
      expectProblem(await award(t, c.a, gameId, 'dup_me', { externalUserId: 'dup_user' }), 404, `Task not found with externalTaskId: dup_me for gameId: ${gameId}`);
      const again = await createTask(t, c.a, gameId, { externalTaskId: 'dup_me' });
      expect(again.taskId).not.toBe(task.taskId);
      // A new task under a reused id starts from scratch.
      expect((await award(t, c.a, gameId, 'dup_me', { externalUserId: 'dup_user' })).body.caseName).toBe('BasicEngagement');
    });
  });

  it('documents every route in /openapi.json with its security', async () => {
    const spec = await (await t.request('/openapi.json')).json();
    const expected: Array<[string, string, string[]]> = [
      ['/api/v1/games', 'get', ['api-key', 'oauth2', 'bearer']],
      ['/api/v1/games', 'post', ['api-key', 'oauth2', 'bearer']],
      ['/api/v1/games/{gameId}', 'patch', ['api-key', 'oauth2', 'bearer']],
      ['/api/v1/games/{gameId}/tasks/bulk', 'post', ['api-key', 'oauth2', 'bearer']],
      ['/api/v1/games/{gameId}/tasks/{externalTaskId}/points', 'post', ['api-key', 'oauth2', 'bearer']],
      ['/api/v1/games/{gameId}/users/{externalUserId}/points/simulated', 'get', ['oauth2', 'bearer']],
      ['/api/v1/users/points/query', 'post', ['api-key', 'oauth2', 'bearer']],
      ['/api/v1/users/{externalUserId}/convert', 'post', ['api-key', 'oauth2', 'bearer']],
      ['/api/v1/strategies', 'get', []],
    ];
    for (const [path, method, schemes] of expected) {
      const operation = spec.paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      const declared = new Set((operation.security ?? []).flatMap((entry: Record<string, unknown>) => Object.keys(entry)));
      expect([...declared].sort(), `${method} ${path}`).toEqual([...schemes].sort());
    }
    const awardOperation = spec.paths['/api/v1/games/{gameId}/tasks/{externalTaskId}/points'].post;
    expect(Object.keys(awardOperation.responses).sort()).toEqual(expect.arrayContaining(['200', '201', '401', '403', '404', '409', '410', '422']));
    expect(spec.components.schemas.AwardPointsDto.properties).toHaveProperty('externalUserId');
    expect(spec.components.schemas.GameDto.properties).toHaveProperty('params');
  });
});
