import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { createApiKey, type IssuedKey } from '../support/auth.js';

/*
 * Concurrency invariants (issue 8): concurrent duplicate awards make exactly one award; concurrent awards and
 * conversions on hot wallets keep every wallet equal to its ledger and never negative, without deadlocks.
 * HARDENING_LONG=1 scales the runs up (`npm run test:hardening`).
 */

const LONG = process.env.HARDENING_LONG === '1';
const DUPLICATES = LONG ? 5000 : 1000;
const WALLETS = 5;
const OPS_PER_WALLET = LONG ? 500 : 100;
/** A keep-alive pool: every request is sent at once, over this many sockets (HARDENING_CONNECTIONS, default 100). */
const CONNECTIONS = Number(process.env.HARDENING_CONNECTIONS ?? 100);

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

let t: TestApp;
let key: IssuedKey;
let agent: http.Agent;
let gameId: string;
const taskIds: string[] = [];

function request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const url = new URL(path, t.baseUrl);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      url,
      {
        method,
        agent,
        headers: {
          'x-api-key': key.key,
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          ...headers,
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON: keep the text
          }
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: parsed });
        });
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

async function created(path: string, body: unknown): Promise<any> {
  const reply = await request('POST', path, body);
  if (reply.status !== 201) throw new Error(`${path}: ${reply.status} ${JSON.stringify(reply.body)}`);
  return reply.body;
}

const db = () => t.app.get(DataSource);

/**
 * Deadlocks Postgres detected in this file's database. A backend reports its counters when it next goes idle (at most
 * about a second later), so wait for that before reading.
 */
async function deadlocks(): Promise<number> {
  await sleep(1500);
  const [{ n }] = (await db().query(
    `SELECT pg_stat_clear_snapshot(), deadlocks::int AS n FROM pg_stat_database WHERE datname = current_database()`,
  )) as Array<{ n: number }>;
  return n;
}

function histogram(replies: Reply[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const reply of replies) counts[reply.status] = (counts[reply.status] ?? 0) + 1;
  return counts;
}

/** A deterministic shuffle (mulberry32), so a failing interleaving can be replayed. */
function shuffle<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

interface WalletCheck {
  externalUserId: string;
  pointsBalance: number;
  coinsBalance: number;
  ledgerPoints: number;
  ledgerCoins: number;
  assigned: number;
  assignedPoints: number;
  conversions: number;
  convertedPoints: number;
}

async function walletOf(externalUserId: string): Promise<WalletCheck> {
  const [row] = (await db().query(
    `SELECT u.external_user_id AS "externalUserId",
            w.points_balance::float8 AS "pointsBalance", w.coins_balance::float8 AS "coinsBalance",
            coalesce(sum(x.points), 0)::float8 AS "ledgerPoints", coalesce(sum(x.coins), 0)::float8 AS "ledgerCoins",
            count(*) FILTER (WHERE x.transaction_type = 'AssignPoints')::int AS assigned,
            coalesce(sum(x.points) FILTER (WHERE x.transaction_type = 'AssignPoints'), 0)::float8 AS "assignedPoints",
            count(*) FILTER (WHERE x.transaction_type = 'ConvertPoints')::int AS conversions,
            coalesce(-sum(x.points) FILTER (WHERE x.transaction_type = 'ConvertPoints'), 0)::float8 AS "convertedPoints"
     FROM users u JOIN wallets w ON w.user_id = u.id LEFT JOIN wallet_transactions x ON x.wallet_id = w.id
     WHERE u.owner = $1 AND u.external_user_id = $2
     GROUP BY u.external_user_id, w.points_balance, w.coins_balance`,
    [`key:${key.id}`, externalUserId],
  )) as WalletCheck[];
  return row;
}

describe('concurrency invariants (issue 8)', () => {
  let deadlocksAtStart = 0;
  const figures: string[] = [];

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMITS_ENABLED: 'false' });
    agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
    key = await createApiKey(t, { client: 'concurrency' });
    gameId = (await created('/api/v1/games', { externalGameId: 'hot_game', platform: 'web' })).gameId;
    for (const externalTaskId of ['hot_task_1', 'hot_task_2']) {
      taskIds.push((await created(`/api/v1/games/${gameId}/tasks`, { externalTaskId })).externalTaskId);
    }
    deadlocksAtStart = await deadlocks();
  });

  afterAll(async () => {
    if (figures.length) console.info(`concurrency: ${figures.join('; ')}`);
    agent?.destroy();
    await t?.close();
  });

  it(`${DUPLICATES} concurrent duplicate awards make exactly one award and one ledger row`, { timeout: LONG ? 600_000 : 120_000 }, async () => {
    const before = await deadlocks();
    const path = `/api/v1/games/${gameId}/tasks/${taskIds[0]}/points`;
    const body = { externalUserId: 'duplicate_user', data: { eventId: 'ignored-when-a-header-is-sent', source: 'concurrency' } };
    const replies = await Promise.all(Array.from({ length: DUPLICATES }, () => request('POST', path, body, { 'idempotency-key': 'one-award' })));

    const statuses = histogram(replies);
    const fresh = replies.filter((reply) => reply.status === 201);
    const replays = replies.filter((reply) => reply.status === 200 && reply.headers['idempotent-replayed'] === 'true');
    expect(statuses).toEqual({ 201: 1, 200: DUPLICATES - 1 });
    expect(replays.length).toBe(DUPLICATES - 1);
    expect(new Set(replies.map((reply) => reply.body.id))).toEqual(new Set([fresh[0].body.id]));

    const [{ awards }] = (await db().query(`SELECT count(*)::int AS awards FROM user_points WHERE idempotency_key = 'one-award'`)) as Array<{
      awards: number;
    }>;
    const wallet = await walletOf('duplicate_user');
    expect(awards).toBe(1);
    expect(wallet.assigned).toBe(1);
    expect(wallet.pointsBalance).toBe(wallet.ledgerPoints);
    expect(wallet.pointsBalance).toBe(fresh[0].body.points);
    const deadlocksSeen = (await deadlocks()) - before;
    expect(deadlocksSeen).toBe(0);
    figures.push(`${DUPLICATES} duplicates sent, ${awards} award written, ${wallet.assigned} ledger row, ${replays.length} replays, ${deadlocksSeen} deadlocks`);
  });

  it(`${WALLETS * OPS_PER_WALLET} concurrent awards and conversions on ${WALLETS} hot wallets keep every wallet equal to its ledger`, { timeout: LONG ? 600_000 : 120_000 }, async () => {
    const before = await deadlocks();
    const users = Array.from({ length: WALLETS }, (_, i) => `hot_user_${i}`);
    // Each wallet exists (with a little balance) before the storm, so conversions find it.
    for (const externalUserId of users) await created(`/api/v1/games/${gameId}/tasks/${taskIds[0]}/points`, { externalUserId });
    const seeded = await Promise.all(users.map(walletOf));

    type Op = { kind: 'award' | 'convert'; user: number; points?: number; task?: string };
    const ops: Op[] = [];
    for (let user = 0; user < WALLETS; user++) {
      for (let i = 0; i < OPS_PER_WALLET; i++) {
        // Half awards over two tasks, half conversions of 1–15 points — about what an award gives, so balances hover
        // near zero and conversions race for the last points: some find enough, some don't.
        ops.push(i % 2 === 0 ? { kind: 'award', user, task: taskIds[(i / 2) % 2] } : { kind: 'convert', user, points: 1 + ((i * 7) % 15) });
      }
    }
    const replies = await Promise.all(
      shuffle(ops, 8).map(async (op) => {
        const reply =
          op.kind === 'award'
            ? await request('POST', `/api/v1/games/${gameId}/tasks/${op.task}/points`, { externalUserId: users[op.user] })
            : await request('POST', `/api/v1/users/${users[op.user]}/convert`, { points: op.points });
        return { op, reply };
      }),
    );

    const unexpected = replies.filter(
      ({ op, reply }) => !(reply.status === 201 || (op.kind === 'convert' && reply.status === 422 && reply.body.detail === 'Not enough points')),
    );
    expect(unexpected.map(({ op, reply }) => `${op.kind}: ${reply.status} ${JSON.stringify(reply.body)}`)).toEqual([]);
    const negative = replies.filter(({ op, reply }) => op.kind === 'convert' && reply.status === 201 && (reply.body.wallet.pointsBalance < 0 || reply.body.wallet.coinsBalance < 0));
    expect(negative).toEqual([]);

    const mismatches: string[] = [];
    let refused = 0;
    let converted = 0;
    let awarded = 0;
    for (let user = 0; user < WALLETS; user++) {
      const wallet = await walletOf(users[user]);
      const mine = replies.filter(({ op }) => op.user === user);
      const awards = mine.filter(({ op, reply }) => op.kind === 'award' && reply.status === 201);
      const conversions = mine.filter(({ op, reply }) => op.kind === 'convert' && reply.status === 201);
      refused += mine.filter(({ reply }) => reply.status === 422).length;
      converted += conversions.length;
      awarded += awards.length;
      const expected = {
        pointsBalance: wallet.ledgerPoints,
        coinsBalance: wallet.ledgerCoins,
        assigned: seeded[user].assigned + awards.length,
        assignedPoints: seeded[user].assignedPoints + awards.reduce((total, { reply }) => total + reply.body.points, 0),
        conversions: conversions.length,
        convertedPoints: conversions.reduce((total, { op }) => total + op.points!, 0),
      };
      const actual = {
        pointsBalance: wallet.pointsBalance,
        coinsBalance: wallet.coinsBalance,
        assigned: wallet.assigned,
        assignedPoints: wallet.assignedPoints,
        conversions: wallet.conversions,
        convertedPoints: wallet.convertedPoints,
      };
      if (JSON.stringify(actual) !== JSON.stringify(expected)) mismatches.push(`${users[user]}: ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`);
      if (wallet.pointsBalance < 0 || wallet.coinsBalance < 0) mismatches.push(`${users[user]} is negative: ${JSON.stringify(wallet)}`);
    }
    expect(mismatches).toEqual([]);
    // The database refuses an overdraft too (CONVENTIONS.md §12).
    const [{ checks }] = (await db().query(
      `SELECT count(*)::int AS checks FROM pg_constraint WHERE conrelid = 'wallets'::regclass AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%points_balance >= %'`,
    )) as Array<{ checks: number }>;
    expect(checks).toBeGreaterThanOrEqual(1);

    const deadlocksSeen = (await deadlocks()) - before;
    expect(deadlocksSeen).toBe(0);
    figures.push(
      `${ops.length} mixed ops on ${WALLETS} wallets (${awarded} awards, ${converted} conversions, ${refused} refused Not enough points), ` +
        `lost updates ${mismatches.length}, deadlocks ${deadlocksSeen}`,
    );
  });

  it('saw no deadlock anywhere: Postgres counted none in this database and the app logged none', async () => {
    const total = (await deadlocks()) - deadlocksAtStart;
    expect(total).toBe(0);
    expect(t.logs.text).not.toMatch(/deadlock|40P01/i);
    figures.push(`deadlocks in pg_stat_database ${total}`);
  });

  it('the deadlock probe is not blind: a real deadlock in this database is counted', async () => {
    const url = process.env.DATABASE_URL!;
    const [first, second] = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })];
    await Promise.all([first.connect(), second.connect()]);
    try {
      const before = await deadlocks();
      await first.query(`CREATE TABLE hardening_deadlock_probe (id int PRIMARY KEY)`);
      await first.query(`INSERT INTO hardening_deadlock_probe VALUES (1), (2)`);
      await Promise.all([first.query('BEGIN'), second.query('BEGIN')]);
      await first.query(`UPDATE hardening_deadlock_probe SET id = id WHERE id = 1`);
      await second.query(`UPDATE hardening_deadlock_probe SET id = id WHERE id = 2`);
      const outcomes = await Promise.allSettled([
        first.query(`UPDATE hardening_deadlock_probe SET id = id WHERE id = 2`),
        second.query(`UPDATE hardening_deadlock_probe SET id = id WHERE id = 1`),
      ]);
      await Promise.all([first.query('ROLLBACK'), second.query('ROLLBACK')]);
      expect(outcomes.filter((outcome) => outcome.status === 'rejected').map((outcome) => (outcome as PromiseRejectedResult).reason.code)).toEqual(['40P01']);
      await first.query(`DROP TABLE hardening_deadlock_probe`);
      expect((await deadlocks()) - before).toBe(1);
    } finally {
      await Promise.all([first.end(), second.end()]);
    }
  });
});
