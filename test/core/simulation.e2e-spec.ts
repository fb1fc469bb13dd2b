import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { startTestApp, type TestApp } from '../support/app.js';
import { award, call, cast, count, createGame, createTask, expectProblem, resetClock, setClock, type Cast } from './core-helpers.js';

const at = (time: string) => `2026-11-25T${time}.000Z`;

describe('simulation (OAuth-only, subject-bound)', () => {
  let t: TestApp;
  let c: Cast;
  let gameId: string;
  let tasks: Array<{ externalTaskId: string; taskId: string }>;
  const simulated = (caller: { key?: string; token?: string }, user = 'alice', game = gameId) => call(t, caller, 'GET', `/games/${game}/users/${user}/points/simulated`);

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMITS_ENABLED: 'false', SECRET_KEY: 'simulation-test-secret-0123456789abcdef' });
    c = await cast(t);
    gameId = (await createGame(t, c.alice)).gameId;
    tasks = [
      await createTask(t, c.alice, gameId, { externalTaskId: 'walk' }),
      await createTask(t, c.alice, gameId, { externalTaskId: 'run', strategyId: 'constantEffortStrategy' }),
      await createTask(t, c.alice, gameId, { externalTaskId: 'closed_one', status: 'closed' }),
    ];
    // The worked example's first four events on "walk", then two on "run".
    for (const [user, time] of [
      ['alice', '10:00:00'],
      ['bob', '10:00:30'],
      ['alice', '10:01:00'],
      ['alice', '10:02:00'],
    ]) {
      setClock(t, at(time));
      expect((await award(t, c.alice, gameId, 'walk', { externalUserId: user })).status).toBe(201);
    }
    for (const time of ['10:00:00', '10:01:00']) {
      setClock(t, at(time));
      await award(t, c.alice, gameId, 'run', { externalUserId: 'alice' });
    }
  });
  afterAll(async () => {
    resetClock(t);
    await t?.close();
  });

  it('refuses an API key alone with 401 (bearer required)', async () => {
    const answer = await simulated(c.a);
    expectProblem(answer, 401, 'This endpoint requires a bearer token.');
  });

  it('refuses another subject with 403 — admins included', async () => {
    expectProblem(await simulated(c.bob), 403, 'You are not authorized to access this resource.');
    expectProblem(await simulated(c.admin), 403, 'You are not authorized to access this resource.');
    expectProblem(await simulated(c.bob, 'bob'), 403, 'You do not have permission to access this game');
  });

  it('ignores an API key sent beside the token: it neither grants its games nor changes the subject', async () => {
    const keyGame = (await createGame(t, c.a)).gameId;
    setClock(t, at('10:02:40'));
    const alone = await simulated(c.alice);
    const withKey = await simulated({ key: c.a.key, token: c.alice.token });
    expect(withKey.status).toBe(200);
    expect(withKey.body).toEqual(alone.body);
    // Bob, with key A beside his token, in key A's game: the key's ownership does not carry over.
    expectProblem(await simulated({ key: c.a.key, token: c.bob.token }, 'bob', keyGame), 403, 'You do not have permission to access this game');
    // Nor does it let him simulate someone else.
    expectProblem(await simulated({ key: c.a.key, token: c.bob.token }), 403, 'You are not authorized to access this resource.');
    resetClock(t);
  });

  it('gives, for every open task, what the next real award gives — and writes nothing', async () => {
    setClock(t, at('10:02:40'));
    const tables = ['users', 'wallets', 'user_points', 'wallet_transactions', 'task_award_stats', 'task_user_award_stats', 'user_actions', 'audit_logs'];
    const before = await Promise.all(tables.map((table) => count(t, table)));
    const answer = await simulated(c.alice);
    expect(answer.status).toBe(200);
    expect(await Promise.all(tables.map((table) => count(t, table)))).toEqual(before);

    const expiration = new Date(Date.parse(at('10:02:40')) + 15 * 60_000).toISOString();
    expect(answer.body.tasks).toEqual([
      { externalUserId: 'alice', externalTaskId: 'walk', caseName: 'IndividualAdjustment', totalSimulatedPoints: 8, expirationDate: expiration },
      { externalUserId: 'alice', externalTaskId: 'run', caseName: 'ConstantEffortReward', totalSimulatedPoints: 3, expirationDate: expiration },
    ]);
    const expectedHash = createHmac('sha256', 'simulation-test-secret-0123456789abcdef')
      .update(
        JSON.stringify({
          externalUserId: 'alice',
          gameId,
          tasks: answer.body.tasks.map((task: Record<string, unknown>) => ({
            caseName: task.caseName,
            expirationDate: task.expirationDate,
            externalTaskId: task.externalTaskId,
            externalUserId: task.externalUserId,
            totalSimulatedPoints: task.totalSimulatedPoints,
          })),
        }),
      )
      .digest('hex');
    expect(answer.body.simulationHash).toBe(expectedHash);

    // The real awards at the same instant give the same.
    for (const task of answer.body.tasks) {
      const real = await award(t, c.alice, gameId, task.externalTaskId, { externalUserId: 'alice' });
      expect({ points: real.body.points, caseName: real.body.caseName }).toEqual({ points: task.totalSimulatedPoints, caseName: task.caseName });
    }
  });

  it('simulates a user who does not exist yet without creating them', async () => {
    setClock(t, at('11:00:00'));
    const carol = await createGame(t, c.bob);
    await createTask(t, c.bob, carol.gameId, { externalTaskId: 'first' });
    const users = await count(t, 'users');
    const answer = await simulated(c.bob, 'bob', carol.gameId);
    expect(answer.status).toBe(200);
    expect(answer.body.tasks).toEqual([
      { externalUserId: 'bob', externalTaskId: 'first', caseName: 'BasicEngagement', totalSimulatedPoints: 1, expirationDate: at('11:15:00') },
    ]);
    expect(await count(t, 'users')).toBe(users);
  });

  it('lets an admin simulate their own user in any game', async () => {
    const answer = await simulated(c.admin, 'admin');
    expect(answer.status).toBe(200);
    expect(answer.body.tasks.map((task: { externalTaskId: string }) => task.externalTaskId)).toEqual(['walk', 'run']);
  });

  it('answers 404 for an unknown game after the subject check', async () => {
    expectProblem(await simulated(c.alice, 'alice', 'nope'), 404, 'Game not found by gameId: nope');
  });
});
