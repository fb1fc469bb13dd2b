import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { award, call, cast, createGame, createTask, db, setClock, resetClock, type Caller, type Cast } from './core-helpers.js';

const at = (time: string) => `2026-11-25T${time}.000Z`;

// The worked example of API.md §8, through the real award route, with the app's clock set for each event.
describe('scoring through POST …/points (default strategy)', () => {
  let t: TestApp;
  let c: Cast;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMITS_ENABLED: 'false' });
    c = await cast(t);
  });
  afterAll(async () => {
    resetClock(t);
    await t?.close();
  });

  /** A fresh game and task, then the events in order; returns "points caseName" per award. */
  async function play(caller: Caller, events: Array<[string, string]>, game?: { gameId: string }, externalTaskId?: string) {
    const theGame = game ?? (await createGame(t, caller));
    const taskId = externalTaskId ?? (await createTask(t, caller, theGame.gameId)).externalTaskId;
    const results: string[] = [];
    for (const [user, time] of events) {
      setClock(t, at(time));
      const answer = await award(t, caller, theGame.gameId, taskId, { externalUserId: user });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      expect(answer.body.created_at).toBe(at(time));
      results.push(`${answer.body.points} ${answer.body.caseName}`);
    }
    return { results, gameId: theGame.gameId, externalTaskId: taskId };
  }

  const base: Array<[string, string]> = [
    ['alice', '10:00:00'],
    ['bob', '10:00:30'],
    ['alice', '10:01:00'],
    ['alice', '10:02:00'],
  ];

  it('gives 1 BasicEngagement, 1 BasicEngagement, 1 default, 1 default, 8 IndividualAdjustment', async () => {
    const { results } = await play(c.a, [...base, ['alice', '10:02:40']]);
    expect(results).toEqual(['1 BasicEngagement', '1 BasicEngagement', '1 default', '1 default', '8 IndividualAdjustment']);
  });

  it.each([
    ['10:03:30', '3 IndividualOverGlobal'],
    ['10:03:50', '15 PeakPerformerBonus'],
    ['10:04:00', '1 default'],
    ['10:04:30', '7 GlobalAdvantageAdjustment'],
  ])('gives the fifth event at %s → %s', async (time, expected) => {
    const { results } = await play(c.a, [...base, ['alice', time]]);
    expect(results.at(-1)).toBe(expected);
  });

  it('gives 11 PerformanceBonus to a user faster than everybody', async () => {
    const { results } = await play(c.a, [
      ['bob', '09:00:00'],
      ['bob', '09:30:00'],
      ['alice', '10:00:00'],
      ['alice', '10:00:20'],
      ['alice', '10:00:40'],
      ['alice', '10:01:00'],
    ]);
    expect(results.at(-1)).toBe('11 PerformanceBonus');
  });

  it('is not changed by awards in another game, another task or another tenant', async () => {
    // Noise first: the same users, at interleaved times, in another game of the same tenant, another task of the
    // same game, and a game of another tenant.
    const game = await createGame(t, c.a);
    const task = await createTask(t, c.a, game.gameId);
    const otherTask = await createTask(t, c.a, game.gameId);
    const otherGame = await createGame(t, c.a);
    const otherGameTask = await createTask(t, c.a, otherGame.gameId);
    const foreignGame = await createGame(t, c.b);
    const foreignTask = await createTask(t, c.b, foreignGame.gameId);
    const noise: Array<[Caller, string, string]> = [
      [c.a, otherGame.gameId, otherGameTask.externalTaskId],
      [c.a, game.gameId, otherTask.externalTaskId],
      [c.b, foreignGame.gameId, foreignTask.externalTaskId],
    ];
    const results: string[] = [];
    for (const [user, time] of [...base, ['alice', '10:02:40']] as Array<[string, string]>) {
      for (const [caller, gameId, externalTaskId] of noise) {
        for (const second of ['05', '10', '15']) {
          setClock(t, at(`${time.slice(0, 6)}${second}`));
          expect((await award(t, caller, gameId, externalTaskId, { externalUserId: user })).status).toBe(201);
        }
      }
      setClock(t, at(time));
      const answer = await award(t, c.a, game.gameId, task.externalTaskId, { externalUserId: user });
      results.push(`${answer.body.points} ${answer.body.caseName}`);
    }
    expect(results).toEqual(['1 BasicEngagement', '1 BasicEngagement', '1 default', '1 default', '8 IndividualAdjustment']);
  });

  it('applies game params, then task params, to the strategy variables', async () => {
    const game = await createGame(t, c.a, { params: [{ key: 'variable_basic_points', value: 5 }, { key: 'variable_individual_adjustment_points', value: 40 }] });
    const task = await createTask(t, c.a, game.gameId, { params: [{ key: 'variable_individual_adjustment_points', value: 80 }] });
    const { results } = await play(c.a, [...base, ['alice', '10:02:40']], game, task.externalTaskId);
    expect(results).toEqual(['5 BasicEngagement', '5 BasicEngagement', '5 default', '5 default', '80 IndividualAdjustment']);
    const strategy = await call(t, c.a, 'GET', `/games/${game.gameId}/strategy`);
    expect(strategy.body.variables).toMatchObject({ variable_basic_points: 5, variable_individual_adjustment_points: 40, variable_bonus_points: 10 });
  });

  it('runs constantEffortStrategy over the last interval of the task', async () => {
    const game = await createGame(t, c.a, { strategyId: 'constantEffortStrategy' });
    const task = await createTask(t, c.a, game.gameId, { params: [{ key: 'variable_max_points', value: 3 }] });
    const results: string[] = [];
    for (const time of ['10:00:00', '10:01:00', '10:02:00', '10:03:00', '10:04:00', '10:20:00']) {
      setClock(t, at(time));
      const answer = await award(t, c.a, game.gameId, task.externalTaskId, { externalUserId: 'steady' });
      results.push(`${answer.body.points} ${answer.body.caseName}`);
    }
    expect(results).toEqual([
      '1 BasicReward',
      '2 ConstantEffortReward',
      '3 ConstantEffortReward',
      '3 ConstantEffortReward',
      '3 ConstantEffortReward',
      '1 BasicReward',
    ]);
  });

  it('reads exact totals back from every points route', async () => {
    const { gameId, externalTaskId } = await play(c.a, [...base, ['alice', '10:02:40']]);
    const game = await call(t, c.a, 'GET', `/games/${gameId}/points`);
    expect(game.status).toBe(200);
    expect(game.body.task).toEqual([
      {
        externalTaskId,
        points: [
          { externalUserId: 'alice', points: 11, timesAwarded: 4 },
          { externalUserId: 'bob', points: 1, timesAwarded: 1 },
        ],
      },
    ]);
    const details = await call(t, c.a, 'GET', `/games/${gameId}/points/details?page_size=1`);
    expect(details.body.search_options).toEqual({ ordering: 'externalUserId', page: 1, page_size: 1, total_count: 2 });
    expect(details.body.task[0].points).toHaveLength(1);
    expect(details.body.task[0].points[0]).toMatchObject({ externalUserId: 'alice', points: 11, timesAwarded: 4 });
    expect(details.body.task[0].points[0].pointsData.map((award: { points: number }) => award.points)).toEqual([8, 1, 1, 1]);
    expect(details.body.task[0].points[0].pointsData[0]).toEqual({ points: 8, caseName: 'IndividualAdjustment', created_at: at('10:02:40') });
    const secondPage = await call(t, c.a, 'GET', `/games/${gameId}/points/details?page=2&page_size=1`);
    expect(secondPage.body.task[0].points.map((user: { externalUserId: string }) => user.externalUserId)).toEqual(['bob']);
    expect(secondPage.body.search_options.total_count).toBe(2);
    const pastTheEnd = await call(t, c.a, 'GET', `/games/${gameId}/points/details?page=9&page_size=1`);
    expect(pastTheEnd.body.task).toEqual([{ externalTaskId, points: [] }]);
    expect(pastTheEnd.body.search_options).toEqual({ ordering: 'externalUserId', page: 9, page_size: 1, total_count: 2 });

    expect((await call(t, c.a, 'GET', `/games/${gameId}/users/alice/points`)).body).toEqual([{ externalTaskId, points: 11, timesAwarded: 4 }]);
    expect((await call(t, c.a, 'GET', `/games/${gameId}/tasks/${externalTaskId}/points`)).body).toEqual([
      { externalUserId: 'alice', points: 11, timesAwarded: 4 },
      { externalUserId: 'bob', points: 1, timesAwarded: 1 },
    ]);
    const taskDetails = await call(t, c.a, 'GET', `/games/${gameId}/tasks/${externalTaskId}/points/details`);
    expect(taskDetails.headers.get('x-total-count')).toBe('2');
    expect(taskDetails.body.map((user: { externalUserId: string; pointsData: unknown[] }) => [user.externalUserId, user.pointsData.length])).toEqual([
      ['alice', 4],
      ['bob', 1],
    ]);
    const one = await call(t, c.a, 'GET', `/games/${gameId}/tasks/${externalTaskId}/users/bob/points`);
    expect(one.body).toEqual([{ externalUserId: 'bob', points: 1, timesAwarded: 1, pointsData: [{ points: 1, caseName: 'BasicEngagement', created_at: at('10:00:30') }] }]);
    const users = await call(t, c.a, 'GET', `/games/${gameId}/users`);
    expect(users.body).toMatchObject({ gameId, tasks: [{ externalTaskId, users: [{ externalUserId: 'alice', firstAction: at('10:00:00') }, { externalUserId: 'bob', firstAction: at('10:00:30') }] }] });
  });

  it('writes an award time in the details exactly as the award answered it (milliseconds, UTC, Z), on all three detail routes', async () => {
    const game = await createGame(t, c.a);
    const { externalTaskId } = await createTask(t, c.a, game.gameId);
    setClock(t, '2026-11-25T23:59:59.987+00:00');
    const fixed = await award(t, c.a, game.gameId, externalTaskId, { externalUserId: 'carol' });
    resetClock(t);
    const live = await award(t, c.a, game.gameId, externalTaskId, { externalUserId: 'carol' });
    expect(fixed.body.created_at).toBe('2026-11-25T23:59:59.987Z');
    const times = [live.body.created_at, fixed.body.created_at];
    const gameDetails = await call(t, c.a, 'GET', `/games/${game.gameId}/points/details`);
    expect(gameDetails.body.task[0].points[0].pointsData.map((award: { created_at: string }) => award.created_at)).toEqual(times);
    const taskDetails = await call(t, c.a, 'GET', `/games/${game.gameId}/tasks/${externalTaskId}/points/details`);
    expect(taskDetails.body[0].pointsData.map((award: { created_at: string }) => award.created_at)).toEqual(times);
    const one = await call(t, c.a, 'GET', `/games/${game.gameId}/tasks/${externalTaskId}/users/carol/points`);
    expect(one.body[0].pointsData.map((award: { created_at: string }) => award.created_at)).toEqual(times);
  });

  it('keeps the details total exact while counting it again only when a user first lands on a live task or the live tasks change', async () => {
    const game = await createGame(t, c.a);
    const first = await createTask(t, c.a, game.gameId);
    const second = await createTask(t, c.a, game.gameId);
    const total = async (path = `/games/${game.gameId}/points/details?page_size=1`) => {
      const answer = await call(t, c.a, 'GET', path);
      expect(answer.status).toBe(200);
      return answer.body.search_options?.total_count ?? Number(answer.headers.get('x-total-count'));
    };
    const awardTo = async (task: string, user: string) => expect((await award(t, c.a, game.gameId, task, { externalUserId: user })).status).toBe(201);
    const usersOf = async (task: string) =>
      (await db(t).query(`SELECT s.user_count::int AS n FROM task_award_stats s JOIN tasks k ON k.id = s.task_id WHERE k.game_id = $1 AND k.external_task_id = $2`, [
        game.gameId,
        task,
      ]))[0].n;

    expect(await total()).toBe(0);
    // 30 new users at once on the first task: each counted once on the task, and the page's total follows.
    await Promise.all(Array.from({ length: 30 }, (_, i) => awardTo(first.externalTaskId, `crowd_${i}`)));
    expect(await usersOf(first.externalTaskId)).toBe(30);
    expect(await total()).toBe(30);
    await awardTo(first.externalTaskId, 'crowd_0'); // a known user again: nothing new to count
    expect(await total()).toBe(30);
    await awardTo(second.externalTaskId, 'crowd_1'); // a known user on another task: a new pair, same users
    expect(await usersOf(second.externalTaskId)).toBe(1);
    expect(await total()).toBe(30);
    await awardTo(second.externalTaskId, 'solo'); // a new user on the second task only
    expect(await total()).toBe(31);
    expect(await total(`/games/${game.gameId}/tasks/${second.externalTaskId}/points/details?page_size=1`)).toBe(2);
    // The second task deleted: 'solo' drops out; 'crowd_1' still counts through the first task.
    expect((await call(t, c.a, 'DELETE', `/games/${game.gameId}/tasks/${second.taskId}`)).status).toBe(200);
    expect(await total()).toBe(30);
    expect(await total(`/games/${game.gameId}/tasks/${first.externalTaskId}/points/details?page_size=1`)).toBe(30);
  });

  it('pages the game details over live tasks only: a user awarded only on a deleted task drops out of the page and the total', async () => {
    const { gameId, externalTaskId } = await play(c.a, [['carol', '11:00:00'], ['dave', '11:00:10']]);
    const extra = await createTask(t, c.a, gameId);
    await play(c.a, [['erin', '11:00:20']], { gameId }, extra.externalTaskId);
    const before = await call(t, c.a, 'GET', `/games/${gameId}/points/details?ordering=-externalUserId`);
    expect(before.body.search_options.total_count).toBe(3);
    expect(before.body.task.flatMap((task: { points: Array<{ externalUserId: string }> }) => task.points.map((user) => user.externalUserId))).toEqual([
      'dave',
      'carol',
      'erin',
    ]);
    expect((await call(t, c.a, 'DELETE', `/games/${gameId}/tasks/${extra.taskId}`)).status).toBe(200);
    const after = await call(t, c.a, 'GET', `/games/${gameId}/points/details?ordering=-externalUserId`);
    expect(after.body.search_options.total_count).toBe(2);
    expect(after.body.task).toEqual([
      {
        externalTaskId,
        points: [expect.objectContaining({ externalUserId: 'dave' }), expect.objectContaining({ externalUserId: 'carol' })],
      },
    ]);
  });
});
