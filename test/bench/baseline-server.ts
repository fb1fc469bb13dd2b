/**
 * The benchmark's baseline (issue 7): a minimal Nest-on-Fastify app with no auth, no validation, no logging, no
 * hooks — only what a hand-written service would do.
 *
 *   GET  /hello  → {"hello":"world"}                              (the ceiling of Nest on Fastify on this machine)
 *   POST /award  {gameId, externalTaskId, externalUserId}         (+ Idempotency-Key header)
 *        → 201, the same award as `POST /api/v1/games/{gameId}/tasks/{externalTaskId}/points` in plain SQL over a
 *          pg Pool: the same statements, in the same order, with the same locks as `src/points/award.service.ts`
 *          (game, task and params reads; then one transaction: task aggregate lock, user + stored-award lookup,
 *          user upsert with wallet, user aggregate lock, the default strategy, one statement writing the award,
 *          both aggregates, the wallet and the ledger row).
 *
 * Run by test/bench/run.ts with tsx (`node --import tsx test/bench/baseline-server.ts`). tsx emits no decorator
 * metadata, so nothing here relies on constructor injection: the pool lives at module scope.
 *
 * Env: DATABASE_URL, PORT, HOST (127.0.0.1), DATABASE_POOL_SIZE (10, as the app's default).
 */
import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { Body, Controller, Get, Headers, HttpCode, HttpException, Module, Post, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import pg from 'pg';
import { AWARD_LATEST_SQL, AWARD_USER_STATS_SQL, AWARD_WRITE_SQL } from '../../src/points/award.sql.js';

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

const GAME_SQL = `SELECT id, external_game_id AS "externalGameId", platform, strategy_id AS "strategyId", owner, api_key_used AS "apiKeyUsed",
  created_at AS "createdAt", updated_at AS "updatedAt" FROM games WHERE id = $1 AND deleted_at IS NULL`;
const TASK_SQL = `SELECT id, game_id AS "gameId", external_task_id AS "externalTaskId", status, strategy_id AS "strategyId",
  created_at AS "createdAt", updated_at AS "updatedAt" FROM tasks WHERE game_id = $1 AND external_task_id = $2 AND deleted_at IS NULL`;
const PARAMS_SQL = `SELECT 'game' AS scope, id, key, value, created_at FROM game_params WHERE game_id = $1
  UNION ALL SELECT 'task' AS scope, id, key, value, created_at FROM task_params WHERE task_id = $2 ORDER BY created_at, key`;
const STORED_SQL = `SELECT u.id AS "userId", p.id AS "awardId", p.points, p.case_name AS "caseName", p.request_hash AS "requestHash",
  p.created_user AS "createdUser", p.created_at AS "createdAt"
  FROM users u LEFT JOIN user_points p ON p.task_id = $3 AND p.user_id = u.id AND p.idempotency_key = $4
  WHERE u.owner = $1 AND u.external_user_id = $2`;
const ENSURE_USER_SQL = `WITH created AS (
    INSERT INTO users (owner, external_user_id, api_key_used, oauth_user_id) VALUES ($1, $2, $3, $4)
    ON CONFLICT (owner, external_user_id) DO NOTHING RETURNING id
  ), wallet AS (
    INSERT INTO wallets (user_id, conversion_rate, api_key_used, oauth_user_id) SELECT id, $5, $3, $4 FROM created
  )
  SELECT id, true AS created FROM created UNION ALL SELECT id, false AS created FROM users WHERE owner = $1 AND external_user_id = $2`;

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

async function award(body: AwardBody, idempotencyKey: string | undefined, reply: FastifyReply) {
  const key = idempotencyKey ?? null;
  const [game] = (await pool.query(GAME_SQL, [body.gameId])).rows;
  if (!game) throw new HttpException('game not found', 404);
  const [task] = (await pool.query(TASK_SQL, [game.id, body.externalTaskId])).rows;
  if (!task) throw new HttpException('task not found', 404);
  const requestHash = createHash('sha256').update(JSON.stringify({ data: body.data ?? {}, externalUserId: body.externalUserId })).digest('hex');
  await pool.query(PARAMS_SQL, [game.id, task.id]);

  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const [stored] = (await client.query(STORED_SQL, [game.owner, body.externalUserId, task.id, key])).rows;
    const replay = async (found: { awardId: string; points: unknown; caseName: string; createdUser: boolean }) => {
      await client.query('ROLLBACK');
      reply.status(200).header('Idempotent-Replayed', 'true');
      return { id: found.awardId, points: Number(found.points), caseName: found.caseName, isACreatedUser: found.createdUser };
    };
    if (stored?.awardId) return await replay(stored);
    let userId: string | undefined = stored?.userId;
    let createdUser = false;
    if (!userId) {
      const [ensured] = (await client.query(ENSURE_USER_SQL, [game.owner, body.externalUserId, game.apiKeyUsed, null, 100])).rows;
      userId = ensured.id as string;
      createdUser = ensured.created as boolean;
    }
    const [userStats] = (await client.query(AWARD_USER_STATS_SQL, [task.id, userId, game.id])).rows as Stats[];
    const [latest] = (await client.query(AWARD_LATEST_SQL, [task.id, userId, key])).rows;
    if (latest.awardId) return await replay(latest);
    const taskStats: Stats = { awardCount: latest.awardCount ?? 0, firstAt: latest.firstAt, lastAt: latest.lastAt };
    const now = new Date();
    const scored = defaultStrategy(taskStats, userStats, now);
    const [row] = (
      await client.query(AWARD_WRITE_SQL, [
        userId,
        task.id,
        game.id,
        scored.points,
        scored.caseName,
        JSON.stringify(body.data ?? {}),
        key,
        requestHash,
        createdUser,
        game.apiKeyUsed,
        null,
        now,
      ])
    ).rows;
    await client.query('COMMIT');
    return {
      id: row.id,
      points: scored.points,
      caseName: scored.caseName,
      isACreatedUser: createdUser,
      gameId: game.id,
      externalTaskId: task.externalTaskId,
      externalUserId: body.externalUserId,
      created_at: row.createdAt,
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
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
