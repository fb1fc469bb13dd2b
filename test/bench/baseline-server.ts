/**
 * The benchmark's baseline (issue 7): a minimal Nest-on-Fastify app with no auth, no validation, no logging, no
 * hooks — only what a hand-written service would do.
 *
 *   GET  /hello  → {"hello":"world"}                              (the ceiling of Nest on Fastify on this machine)
 *   POST /award  {gameId, externalTaskId, externalUserId}         (+ Idempotency-Key header)
 *        → 201, the same award as `POST /api/v1/games/{gameId}/tasks/{externalTaskId}/points` in plain SQL over a
 *          pg Pool: the same (prepared) statements, in the same order, on one pooled connection held for the award, with
 *          the same locks as `src/points/award.service.ts` (one read of game, task, params, user, aggregates and stored award; the default strategy; one write
 *          claiming the user's aggregate and writing the award, both aggregates, the wallet and the ledger row; when
 *          the claim is lost, the same locked path: a transaction locking the user's aggregate, then the same two).
 *
 * Run by test/bench/run.ts with tsx (`node --import tsx test/bench/baseline-server.ts`). tsx emits no decorator
 * metadata, so nothing here relies on constructor injection: the pool lives at module scope.
 *
 * Env: DATABASE_URL, PORT, HOST (127.0.0.1), DATABASE_POOL_SIZE (10, as the app's default).
 */
import 'reflect-metadata';
import { createHash, randomUUID } from 'node:crypto';
import { Body, Controller, Get, Headers, HttpCode, HttpException, Module, Post, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import pg from 'pg';
import { ENSURE_USER_SQL } from '../../src/users/ensure-user.sql.js';
import { AWARD_LOCK_USER_STATS, AWARD_READ, AWARD_WRITE, awardWriteParams, type AwardReadRow } from '../../src/points/award.sql.js';

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.DATABASE_POOL_SIZE ?? 10),
});

interface AwardBody {
  gameId: string;
  externalTaskId: string;
  externalUserId: string;
  data?: Record<string, unknown>;
}

interface Stats {
  awardCount: string | number | null;
  firstAt: Date | null;
  lastAt: Date | null;
  previousAt?: Date | null;
}

/** API.md §8 `default` strategy with its default variables, from the two running aggregates (no history scan). */
function defaultStrategy(task: Stats | undefined, user: Stats | undefined, now: Date): { points: number; caseName: string } {
  const seconds = (date: Date | null | undefined) => (date ? date.getTime() / 1000 : 0);
  const T = Number(task?.awardCount ?? 0);
  const U = Number(user?.awardCount ?? 0);
  if (T < 2) return { points: 1, caseName: 'BasicEngagement' };
  if (U <= 2) return { points: 1, caseName: 'default' };
  const userAvg = (seconds(user?.lastAt) - seconds(user?.firstAt)) / (U - 1);
  const allAvg = (seconds(task?.lastAt) - seconds(task?.firstAt)) / (T - 1);
  if (userAvg < allAvg) return { points: 11, caseName: 'PerformanceBonus' };
  const lastWindow = seconds(user?.lastAt) - seconds(user?.previousAt);
  const newWindow = now.getTime() / 1000 - seconds(user?.lastAt);
  const diff = newWindow - lastWindow;
  if (diff > 0 && diff < allAvg) return { points: 3, caseName: 'IndividualOverGlobal' };
  if (diff > 0 && diff < userAvg) return { points: 15, caseName: 'PeakPerformerBonus' };
  if (diff > 0 && diff > userAvg) return { points: 7, caseName: 'GlobalAdvantageAdjustment' };
  if (diff < 0) return { points: 8, caseName: 'IndividualAdjustment' };
  return { points: 1, caseName: 'default' };
}

type Db = Pick<pg.PoolClient, 'query'>;

/**
 * The key stamped on what the baseline writes: the key that created the game, looked up once per game (the app knows
 * its caller's key from the request, so neither pays a query for it per award).
 */
const apiKeys = new Map<string, Promise<string | null>>();
function apiKeyOf(gameId: string): Promise<string | null> {
  let key = apiKeys.get(gameId);
  if (!key) {
    key = pool.query(`SELECT api_key_used AS "apiKeyUsed" FROM games WHERE id = $1`, [gameId]).then(({ rows }) => rows[0]?.apiKeyUsed ?? null);
    apiKeys.set(gameId, key);
  }
  return key;
}
type Attempt = { status: 200 | 201; body: Record<string, unknown> } | { lost: AwardReadRow };

/** The read, the checks, the strategy and the claiming write; `createdUser` as in AwardService.attempt. */
async function attempt(db: Db, body: AwardBody, key: string | null, requestHash: string, apiKeyId: string | null, createdUser = false): Promise<Attempt> {
  const [row] = (await db.query({ ...AWARD_READ, values: [body.gameId, body.externalTaskId, body.externalUserId, key] })).rows as AwardReadRow[];
  if (!row) throw new HttpException('game not found', 404);
  if (!row.taskId) throw new HttpException('task not found', 404);
  if (row.awardId) {
    return { status: 200, body: { id: row.awardId, points: Number(row.awardPoints), caseName: row.awardCaseName, isACreatedUser: row.awardCreatedUser } };
  }
  const now = new Date();
  const scored = defaultStrategy(
    { awardCount: row.taskCount, firstAt: row.taskFirstAt, lastAt: row.taskLastAt },
    { awardCount: row.userCount, firstAt: row.userFirstAt, lastAt: row.userLastAt, previousAt: row.userPreviousAt },
    now,
  );
  const createUser = !row.userId;
  const [written] = (
    await db.query({
      ...AWARD_WRITE,
      values: awardWriteParams({
        userId: row.userId ?? randomUUID(),
        taskId: row.taskId,
        gameId: row.gameId,
        points: scored.points,
        caseName: scored.caseName,
        data: body.data ?? {},
        idempotencyKey: key,
        requestHash,
        createdUser: createUser || createdUser,
        apiKeyUsed: apiKeyId,
        oauthUserId: null,
        at: now,
        createUser,
        owner: row.owner,
        externalUserId: body.externalUserId,
        conversionRate: 100,
        expectedUserCount: row.userCount,
      }),
    })
  ).rows;
  if (!written) return { lost: row };
  return {
    status: 201,
    body: {
      id: written.id,
      points: scored.points,
      caseName: scored.caseName,
      isACreatedUser: createUser || createdUser,
      gameId: row.gameId,
      externalTaskId: row.externalTaskId,
      externalUserId: body.externalUserId,
      created_at: written.createdAt,
    },
  };
}

async function award(body: AwardBody, idempotencyKey: string | undefined, reply: FastifyReply) {
  const key = idempotencyKey ?? null;
  const requestHash = createHash('sha256').update(JSON.stringify({ data: body.data ?? {}, externalUserId: body.externalUserId })).digest('hex');
  const apiKeyId = await apiKeyOf(body.gameId);
  // One pooled connection for the read, the write and the locked path, as AwardService's session.
  const client = await pool.connect();
  let result: Attempt;
  try {
    result = await attempt(client, body, key, requestHash, apiKeyId);
    if ('lost' in result) {
      // The locked path: the user, a lock on their aggregate, then the same read and write.
      const lost = result.lost;
      try {
        await client.query('BEGIN');
        let userId = lost.userId;
        let createdUser = false;
        if (!userId) {
          const [ensured] = (await client.query(ENSURE_USER_SQL, [lost.owner, body.externalUserId, apiKeyId, null, 100])).rows;
          userId = ensured.id as string;
          createdUser = ensured.created as boolean;
        }
        await client.query({ ...AWARD_LOCK_USER_STATS, values: [lost.taskId, userId, lost.gameId, body.externalUserId] });
        result = await attempt(client, body, key, requestHash, apiKeyId, createdUser);
        if ('lost' in result) throw new Error('lost a locked claim');
        await client.query(result.status === 201 ? 'COMMIT' : 'ROLLBACK');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    }
  } finally {
    client.release();
  }
  reply.status(result.status);
  if (result.status === 200) reply.header('Idempotent-Replayed', 'true');
  return result.body;
}

@Controller()
class BaselineController {
  @Get('hello')
  hello() {
    return { hello: 'world' };
  }

  @Post('award')
  @HttpCode(201)
  award(@Body() body: AwardBody, @Headers('idempotency-key') key: string | undefined, @Res({ passthrough: true }) reply: FastifyReply) {
    return award(body, key, reply);
  }
}

@Module({ controllers: [BaselineController] })
class BaselineModule {}

const app = await NestFactory.create<NestFastifyApplication>(BaselineModule, new FastifyAdapter(), { logger: ['error'] });
await app.listen({ port: Number(process.env.PORT ?? 3999), host: process.env.HOST ?? '127.0.0.1' });
process.stdout.write(`baseline listening on ${await app.getUrl()} (pid ${process.pid})\n`);

let closing = false;
const close = async () => {
  if (closing) return;
  closing = true;
  await app.close().catch(() => undefined);
  await pool.end().catch(() => undefined);
  process.exit(0);
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void close());
// Started with an IPC channel by the harness: exit with it, even if the harness is killed outright.
if (process.channel) {
  process.channel.unref();
  process.once('disconnect', () => void close());
}
