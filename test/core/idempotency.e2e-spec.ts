import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PreparedStatementRunner } from '../../src/database/prepared-statements.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { award, call, cast, count, createGame, createTask, db, expectInvalid, expectProblem, type Cast } from './core-helpers.js';

describe('idempotent awards', () => {
  let t: TestApp;
  let c: Cast;
  let gameId: string;
  let externalTaskId: string;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMITS_ENABLED: 'false', DATABASE_POOL_SIZE: '20' });
    c = await cast(t);
    gameId = (await createGame(t, c.a)).gameId;
    externalTaskId = (await createTask(t, c.a, gameId)).externalTaskId;
  });
  afterAll(async () => {
    await t?.close();
  });

  const awardsOf = async (externalUserId: string) =>
    (await db(t).query(`SELECT count(*)::int AS n FROM user_points p JOIN users u ON u.id = p.user_id WHERE u.external_user_id = $1`, [externalUserId]))[0].n;
  const ledgerOf = async (externalUserId: string) =>
    (
      await db(t).query(
        `SELECT count(*)::int AS n FROM wallet_transactions x JOIN wallets w ON w.id = x.wallet_id JOIN users u ON u.id = w.user_id WHERE u.external_user_id = $1`,
        [externalUserId],
      )
    )[0].n;

  it('replays the stored award with Idempotent-Replayed: true and writes nothing', async () => {
    const first = await award(t, c.a, gameId, externalTaskId, { externalUserId: 'replay_user', data: { score: 1 } }, { 'Idempotency-Key': 'k-1' });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await award(t, c.a, gameId, externalTaskId, { data: { score: 1 }, externalUserId: 'replay_user' }, { 'Idempotency-Key': 'k-1' });
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(await awardsOf('replay_user')).toBe(1);
    expect(await ledgerOf('replay_user')).toBe(1);
  });

  it('takes X-Idempotency-Key, else data.eventId, as the key', async () => {
    const x = await award(t, c.a, gameId, externalTaskId, { externalUserId: 'alias_user' }, { 'X-Idempotency-Key': 'x-1' });
    expect((await award(t, c.a, gameId, externalTaskId, { externalUserId: 'alias_user' }, { 'X-Idempotency-Key': 'x-1' })).body).toEqual(x.body);
    const event = await award(t, c.a, gameId, externalTaskId, { externalUserId: 'alias_user', data: { eventId: 'evt-9' } });
    const replay = await award(t, c.a, gameId, externalTaskId, { externalUserId: 'alias_user', data: { eventId: 'evt-9' } });
    expect(replay.status).toBe(200);
    expect(replay.body.id).toBe(event.body.id);
    expect(await awardsOf('alias_user')).toBe(2);
  });

  it('answers 409 when the key comes back with a different body', async () => {
    await award(t, c.a, gameId, externalTaskId, { externalUserId: 'mismatch_user', data: { score: 1 } }, { 'Idempotency-Key': 'k-2' });
    const different = await award(t, c.a, gameId, externalTaskId, { externalUserId: 'mismatch_user', data: { score: 2 } }, { 'Idempotency-Key': 'k-2' });
    expectProblem(different, 409, 'Idempotency-Key was already used with a different request.');
    expect(await awardsOf('mismatch_user')).toBe(1);
  });

  it('scopes keys to (game, task, user): the same key elsewhere is a new award', async () => {
    const otherTask = await createTask(t, c.a, gameId);
    for (const [user, task] of [
      ['scope_1', externalTaskId],
      ['scope_2', externalTaskId],
      ['scope_1', otherTask.externalTaskId],
    ]) {
      expect((await award(t, c.a, gameId, task, { externalUserId: user }, { 'Idempotency-Key': 'shared' })).status).toBe(201);
    }
  });

  it('turns 50 concurrent identical requests into exactly one award and one ledger row; the rest are replays', async () => {
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => award(t, c.a, gameId, externalTaskId, { externalUserId: 'burst_user', data: { n: 1 } }, { 'Idempotency-Key': 'burst' })),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses.filter((status) => status === 201)).toHaveLength(1);
    expect(statuses.filter((status) => status === 200)).toHaveLength(49);
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    expect(answers.filter((answer) => answer.status === 200).every((answer) => answer.headers.get('idempotent-replayed') === 'true')).toBe(true);
    expect(await awardsOf('burst_user')).toBe(1);
    expect(await ledgerOf('burst_user')).toBe(1);
  });

  it('counts each of 60 concurrent distinct awards of one new user once: one user, one wallet, aggregates and ledger agree, the task\'s user count grows by one', async () => {
    // Every award after the first loses its compare-and-set claim on the user's aggregate at least once here, so this
    // drives the locked path (award.service.ts) as hard as the optimistic one.
    const [{ n: before, users: usersBefore }] = await db(t).query(
      `SELECT COALESCE(s.award_count, 0)::int AS n, COALESCE(s.user_count, 0)::int AS users
       FROM tasks k LEFT JOIN task_award_stats s ON s.task_id = k.id WHERE k.game_id = $1 AND k.external_task_id = $2`,
      [gameId, externalTaskId],
    );
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, index) => award(t, c.a, gameId, externalTaskId, { externalUserId: 'crowd_user' }, { 'Idempotency-Key': `crowd-${index}` })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(60).fill(201));
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(60);
    expect(answers.filter((answer) => answer.body.isACreatedUser === true)).toHaveLength(1);
    const [row] = await db(t).query(
      `SELECT (SELECT count(*) FROM users WHERE external_user_id = 'crowd_user')::int AS users,
              (SELECT count(*) FROM wallets w JOIN users u ON u.id = w.user_id WHERE u.external_user_id = 'crowd_user')::int AS wallets,
              (SELECT count(*) FROM user_points p JOIN users u ON u.id = p.user_id WHERE u.external_user_id = 'crowd_user')::int AS awards,
              (SELECT count(*) FROM user_points p JOIN users u ON u.id = p.user_id WHERE u.external_user_id = 'crowd_user' AND p.created_user)::int AS creating,
              (SELECT sum(points) FROM user_points p JOIN users u ON u.id = p.user_id WHERE u.external_user_id = 'crowd_user')::int AS points,
              (SELECT award_count FROM task_user_award_stats s JOIN users u ON u.id = s.user_id WHERE u.external_user_id = 'crowd_user')::int AS "userCount",
              (SELECT points_total FROM task_user_award_stats s JOIN users u ON u.id = s.user_id WHERE u.external_user_id = 'crowd_user')::int AS "userTotal",
              (SELECT award_count FROM task_award_stats s JOIN tasks k ON k.id = s.task_id WHERE k.game_id = $1 AND k.external_task_id = $2)::int AS "taskCount",
              (SELECT user_count FROM task_award_stats s JOIN tasks k ON k.id = s.task_id WHERE k.game_id = $1 AND k.external_task_id = $2)::int AS "taskUsers",
              (SELECT points_balance FROM wallets w JOIN users u ON u.id = w.user_id WHERE u.external_user_id = 'crowd_user')::int AS balance,
              (SELECT sum(x.points) FROM wallet_transactions x JOIN wallets w ON w.id = x.wallet_id JOIN users u ON u.id = w.user_id
                WHERE u.external_user_id = 'crowd_user')::int AS ledger`,
      [gameId, externalTaskId],
    );
    const answered = answers.reduce((sum, answer) => sum + answer.body.points, 0);
    expect(row).toEqual({
      users: 1,
      wallets: 1,
      awards: 60,
      creating: 1,
      points: answered,
      userCount: 60,
      userTotal: answered,
      taskCount: before + 60,
      taskUsers: usersBefore + 1,
      balance: answered,
      ledger: answered,
    });
    expect(await ledgerOf('crowd_user')).toBe(60);
  });

  it('answers isSimulated: true with 200 and writes nothing at all', async () => {
    const tables = ['users', 'wallets', 'user_points', 'wallet_transactions', 'task_award_stats', 'task_user_award_stats', 'audit_logs'];
    const before = await Promise.all(tables.map((table) => count(t, table)));
    const simulated = await award(t, c.a, gameId, externalTaskId, { externalUserId: 'dry_run_user', isSimulated: true }, { 'Idempotency-Key': 'dry' });
    expect(simulated.status).toBe(200);
    expect(simulated.body).toMatchObject({ id: null, points: 1, isACreatedUser: true, isSimulated: true, externalUserId: 'dry_run_user' });
    expect(await Promise.all(tables.map((table) => count(t, table)))).toEqual(before);
    // The same key can still be used for the real award afterwards.
    expect((await award(t, c.a, gameId, externalTaskId, { externalUserId: 'dry_run_user' }, { 'Idempotency-Key': 'dry' })).status).toBe(201);
  });

  it('answers 410 on a closed task — after replaying what was stored before it closed', async () => {
    const task = await createTask(t, c.a, gameId);
    const stored = await award(t, c.a, gameId, task.externalTaskId, { externalUserId: 'closing_user' }, { 'Idempotency-Key': 'before-close' });
    expect((await call(t, c.a, 'PATCH', `/games/${gameId}/tasks/${task.taskId}`, { status: 'closed' })).status).toBe(200);
    const replay = await award(t, c.a, gameId, task.externalTaskId, { externalUserId: 'closing_user' }, { 'Idempotency-Key': 'before-close' });
    expect(replay.status).toBe(200);
    expect(replay.body.id).toBe(stored.body.id);
    expectProblem(await award(t, c.a, gameId, task.externalTaskId, { externalUserId: 'closing_user' }), 410, 'Task is not active');
    expectProblem(await award(t, c.a, gameId, task.externalTaskId, { externalUserId: 'closing_user', isSimulated: true }), 410, 'Task is not active');
    expectProblem(await call(t, c.a, 'POST', `/games/${gameId}/tasks/${task.externalTaskId}/action`, { typeAction: 'x', externalUserId: 'closing_user' }), 410, 'Task is not active');
    expect(await awardsOf('closing_user')).toBe(1);
  });

  it('refuses keys over 255 characters with 422 before looking anything up', async () => {
    expectInvalid(await award(t, c.a, '00000000-0000-0000-0000-000000000000', 'nope', { externalUserId: 'u' }, { 'Idempotency-Key': 'k'.repeat(256) }), 'Idempotency-Key');
    expectInvalid(await award(t, c.a, gameId, externalTaskId, { externalUserId: 'u', data: { eventId: 'e'.repeat(256) } }), 'data.eventId');
  });
});

describe('a pool of one connection', () => {
  let t: TestApp;
  let c: Cast;
  beforeAll(async () => {
    // Starting migrates under an advisory lock: on the lock's own connection, or this would wait for a second one.
    t = await startTestApp({ RATE_LIMITS_ENABLED: 'false', DATABASE_POOL_SIZE: '1' });
    c = await cast(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('runs a session\'s statements and its transaction on the connection it holds (a second would never come)', async () => {
    const runner = t.app.get(PreparedStatementRunner);
    const pids = await runner.session(async (session) => {
      const [outside] = await session.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const inside = await session.transaction(async (db) => (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))[0]);
      return [outside.pid, inside.pid];
    });
    expect(pids[0]).toBe(pids[1]);
  });

  it('awards concurrently, one session at a time: every award lands once, aggregates agree', async () => {
    const { gameId } = await createGame(t, c.a);
    const { externalTaskId } = await createTask(t, c.a, gameId);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) => award(t, c.a, gameId, externalTaskId, { externalUserId: `lane_${index % 4}` }, { 'Idempotency-Key': `lane-${index}` })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(201));
    expect(answers.filter((answer) => answer.body.isACreatedUser === true)).toHaveLength(4);
    const [row] = await db(t).query(
      `SELECT sum(s.award_count)::int AS awards, max(ts.user_count)::int AS users
       FROM task_user_award_stats s JOIN task_award_stats ts ON ts.task_id = s.task_id JOIN tasks k ON k.id = s.task_id
       WHERE k.game_id = $1`,
      [gameId],
    );
    expect(row).toEqual({ awards: 20, users: 4 });
  }, 30_000);
});

/**
 * A TCP relay to PostgreSQL that can go silent on the connections it carries (an unresponsive server or network, not a
 * closed one); connections opened afterwards are relayed normally.
 */
async function relayTo(target: URL): Promise<{ url: string; silence(): void; close(): Promise<void> }> {
  const live = new Set<{ silent: boolean; sockets: Socket[] }>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    const pair = { silent: false, sockets: [client, upstream] };
    live.add(pair);
    client.on('data', (chunk) => pair.silent || upstream.write(chunk));
    upstream.on('data', (chunk) => pair.silent || client.write(chunk));
    const end = () => {
      live.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    silence: () => live.forEach((pair) => (pair.silent = true)),
    close: async () => {
      live.forEach((pair) => pair.sockets.forEach((socket) => socket.destroy()));
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('a held connection whose server stops answering', () => {
  let t: TestApp;
  let c: Cast;
  let relay: Awaited<ReturnType<typeof relayTo>>;
  beforeAll(async () => {
    relay = await relayTo(new URL(process.env.DATABASE_URL!));
    // One connection, and a client-side query timeout of 1.2 s (the statement timeout + 1 s).
    t = await startTestApp({ RATE_LIMITS_ENABLED: 'false', DATABASE_URL: relay.url, DATABASE_POOL_SIZE: '1', DATABASE_STATEMENT_TIMEOUT_MS: '200' });
    c = await cast(t);
  });
  afterAll(async () => {
    await t?.close();
    await relay?.close();
  });

  it('is destroyed after its query times out, not handed to the next award', async () => {
    const { gameId } = await createGame(t, c.a);
    const { externalTaskId } = await createTask(t, c.a, gameId);
    expect((await award(t, c.a, gameId, externalTaskId, { externalUserId: 'before' })).status).toBe(201);
    relay.silence();
    const stuck = await award(t, c.a, gameId, externalTaskId, { externalUserId: 'during' });
    expect(stuck.status).toBeGreaterThanOrEqual(500);
    // On a new connection at once; on the silent one it would wait for its stuck query, then time out again.
    const started = Date.now();
    const after = await award(t, c.a, gameId, externalTaskId, { externalUserId: 'after' });
    expect(after.status).toBe(201);
    expect(Date.now() - started).toBeLessThan(1000);
  }, 30_000);
});
