import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { call, cast, createGame, createTask, db, expectProblem, type Cast } from './core-helpers.js';

/**
 * Task actions: a caller who is not an admin gets them in one statement (game, task, user and action together), an
 * admin in two round trips (the owner's namespace is known only once the game is read). Both must answer the same
 * errors in the same order and write nothing when refused.
 */
describe('task actions', () => {
  let t: TestApp;
  let c: Cast;
  let gameId: string;
  let externalTaskId: string;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMITS_ENABLED: 'false' });
    c = await cast(t);
    gameId = (await createGame(t, c.a)).gameId;
    externalTaskId = (await createTask(t, c.a, gameId)).externalTaskId;
  });
  afterAll(async () => {
    await t?.close();
  });

  const written = async (externalUserId: string) =>
    (
      await db(t).query(
        `SELECT (SELECT count(*) FROM users WHERE external_user_id = $1)::int AS users,
                (SELECT count(*) FROM wallets w JOIN users u ON u.id = w.user_id WHERE u.external_user_id = $1)::int AS wallets,
                (SELECT count(*) FROM user_actions a JOIN users u ON u.id = a.user_id WHERE u.external_user_id = $1)::int AS actions`,
        [externalUserId],
      )
    )[0];
  const act = (caller: Cast['a'], path: string, externalUserId: string) =>
    call(t, caller, 'POST', path, { typeAction: 'opened_app', externalUserId, data: { screen: 'home' } });

  it('records the action, creating the user with a wallet in the game owner’s namespace, then reuses the user', async () => {
    const first = await act(c.a, `/games/${gameId}/tasks/${externalTaskId}/action`, 'actor_1');
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ typeAction: 'opened_app', data: { screen: 'home' }, externalUserId: 'actor_1', message: 'Action added successfully' });
    expect((await act(c.a, `/games/${gameId}/tasks/${externalTaskId}/action`, 'actor_1')).status).toBe(201);
    expect(await written('actor_1')).toEqual({ users: 1, wallets: 1, actions: 2 });
    const [row] = await db(t).query(
      `SELECT u.owner, a.game_id AS "gameId", k.external_task_id AS "externalTaskId", a.api_key_used AS "apiKeyUsed"
       FROM user_actions a JOIN users u ON u.id = a.user_id JOIN tasks k ON k.id = a.task_id WHERE u.external_user_id = 'actor_1' LIMIT 1`,
    );
    expect(row).toEqual({ owner: `key:${c.keyA.id}`, gameId, externalTaskId, apiKeyUsed: c.keyA.id });
  });

  it('refuses, in this order and writing nothing: a malformed or unknown game (404), someone else’s (403), an unknown task (404), a closed one (410)', async () => {
    expectProblem(await act(c.a, `/games/not-a-uuid/tasks/${externalTaskId}/action`, 'refused_1'), 404, 'Game not found by gameId: not-a-uuid');
    const unknown = '00000000-0000-4000-8000-000000000000';
    expectProblem(await act(c.a, `/games/${unknown}/tasks/${externalTaskId}/action`, 'refused_1'), 404, `Game not found by gameId: ${unknown}`);
    // Another tenant, even naming a task that does not exist, learns only that the game is not theirs.
    expectProblem(await act(c.b, `/games/${gameId}/tasks/${externalTaskId}/action`, 'refused_1'), 403, 'You do not have permission to access this game');
    expectProblem(await act(c.b, `/games/${gameId}/tasks/no_such_task/action`, 'refused_1'), 403);
    expectProblem(
      await act(c.a, `/games/${gameId}/tasks/no_such_task/action`, 'refused_1'),
      404,
      `Task not found with externalTaskId: no_such_task for gameId: ${gameId}`,
    );
    const closing = await createTask(t, c.a, gameId);
    expect((await call(t, c.a, 'PATCH', `/games/${gameId}/tasks/${closing.taskId}`, { status: 'closed' })).status).toBe(200);
    expectProblem(await act(c.a, `/games/${gameId}/tasks/${closing.externalTaskId}/action`, 'refused_1'), 410, 'Task is not active');
    expect(await written('refused_1')).toEqual({ users: 0, wallets: 0, actions: 0 });
  });

  it('lets an admin act on any game, in the game owner’s namespace, with the same refusals', async () => {
    const answer = await act(c.admin, `/games/${gameId}/tasks/${externalTaskId}/action`, 'admin_actor');
    expect(answer.status).toBe(201);
    const [user] = await db(t).query(`SELECT owner FROM users WHERE external_user_id = 'admin_actor'`);
    expect(user.owner).toBe(`key:${c.keyA.id}`);
    expectProblem(await act(c.admin, `/games/${gameId}/tasks/no_such_task/action`, 'admin_refused'), 404);
    expect(await written('admin_refused')).toEqual({ users: 0, wallets: 0, actions: 0 });
  });

  it('creates one user for 30 concurrent first actions of the same new user, and keeps every action', async () => {
    const answers = await Promise.all(Array.from({ length: 30 }, () => act(c.a, `/games/${gameId}/tasks/${externalTaskId}/action`, 'crowd_actor')));
    expect(answers.map((answer) => answer.status)).toEqual(Array(30).fill(201));
    expect(await written('crowd_actor')).toEqual({ users: 1, wallets: 1, actions: 30 });
  });
});
