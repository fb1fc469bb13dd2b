import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type QueryRunner } from 'typeorm';
import type { AuthContext } from '../auth/auth-context.js';
import { Clock } from '../common/clock.js';
import { PointsMetrics } from '../observability/points-metrics.js';
import { conflict, DomainError } from '../common/domain-error.js';
import { validationFailed } from '../common/validation.js';
import { GameAccess, type GameRow, type ParamRow } from '../games/game-access.service.js';
import { isUniqueViolation } from '../games/params.js';
import { stampsOf } from '../games/tenancy.js';
import { StrategyRegistry } from '../strategies/strategy-registry.js';
import { TaskLookup, type TaskRow } from '../tasks/task-lookup.service.js';
import { UserDirectory } from '../users/user-directory.service.js';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import type { AwardDto, AwardPointsDto } from './dto/award.dto.js';
import { AWARD_LATEST_SQL, AWARD_USER_STATS_SQL, AWARD_WRITE_SQL } from './award.sql.js';
import { historyOf, runStrategy, vetoError, type ScoringParams, type StatsRow } from './scoring.js';

export const IDEMPOTENCY_MISMATCH = 'Idempotency-Key was already used with a different request.';
export const TASK_NOT_ACTIVE = 'Task is not active';
const MAX_KEY_LENGTH = 255;

export interface AwardOutcome {
  status: 200 | 201;
  replayed: boolean;
  award: AwardDto;
}

interface StoredAward {
  userId: string;
  awardId: string | null;
  points: number | null;
  caseName: string | null;
  requestHash: string | null;
  createdUser: boolean | null;
  createdAt: Date | null;
}

/** One award request, checked and resolved: who asks, where, what, and under which idempotency key. */
interface AwardRequest {
  auth: AuthContext;
  game: GameRow;
  task: TaskRow;
  params: ScoringParams;
  dto: AwardPointsDto;
  idempotencyKey: string | null;
  requestHash: string;
}

/** Ends the transaction early with a result (a replay) instead of an error; nothing is written. */
class EarlyAnswer {
  constructor(readonly outcome: AwardOutcome) {}
}

/**
 * Awards points (API.md §6): one short transaction that locks the user's aggregate on the task first (so one user's
 * awards, duplicates included, are serialised), then — only in its final statement, just before the commit — the
 * task's aggregate and the wallet. Every award takes its locks in that order and conversions lock only the wallet, so
 * they cannot deadlock; and the task-wide lock, which every award on the task needs, is held for one statement only.
 * Its cost does not depend on the history: strategies read running aggregates only.
 */
@Injectable()
export class AwardService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly games: GameAccess,
    private readonly tasks: TaskLookup,
    private readonly users: UserDirectory,
    private readonly registry: StrategyRegistry,
    private readonly clock: Clock,
    private readonly metrics: PointsMetrics,
  ) {}

  async award(auth: AuthContext, gameId: string, externalTaskId: string, dto: AwardPointsDto, headerKey?: string): Promise<AwardOutcome> {
    const idempotencyKey = idempotencyKeyOf(dto, headerKey);
    const game = await this.games.require(auth, gameId);
    const task = await this.tasks.requireByExternalId(game, externalTaskId);
    const requestHash = sha256Hex(canonicalJson({ externalUserId: dto.externalUserId, data: dto.data ?? {} }));
    const request: AwardRequest = { auth, game, task, params: await this.paramsOf(game, task), dto, idempotencyKey, requestHash };
    if (dto.isSimulated) return this.simulate(request);

    for (let attempt = 0; ; attempt++) {
      try {
        return await this.write(request);
      } catch (error) {
        // The unique idempotency scope is the last guard; the user's aggregate lock makes this unreachable in practice.
        if (attempt < 2 && idempotencyKey !== null && isUniqueViolation(error, 'user_points_idempotency_key')) continue;
        throw error;
      }
    }
  }

  private async write(request: AwardRequest): Promise<AwardOutcome> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      const outcome = await this.awardInTransaction(runner, request);
      await runner.commitTransaction();
      if (!outcome.replayed) this.metrics.awarded();
      return outcome;
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction();
      if (error instanceof EarlyAnswer) return error.outcome;
      throw error;
    } finally {
      await runner.release();
    }
  }

  private async awardInTransaction(runner: QueryRunner, request: AwardRequest): Promise<AwardOutcome> {
    const { auth, game, task, params, dto, idempotencyKey } = request;
    // 1. The user and, when a key is given, the award already stored under it (no lock yet).
    const stored = await this.findUserAndStoredAward(runner, game, task, dto.externalUserId, idempotencyKey);
    if (stored?.awardId) throw new EarlyAnswer(replayOf(stored, request));
    if (task.status === 'closed') throw new DomainError('gone', TASK_NOT_ACTIVE);

    const stamps = stampsOf(auth);
    let userId = stored?.userId;
    let createdUser = false;
    if (!userId) {
      const ensured = await this.users.ensure(runner.manager, game.owner, dto.externalUserId, stamps);
      userId = ensured.id;
      createdUser = ensured.created;
    }

    // 2. The user's aggregate on the task, locked: awards of one user on one task (duplicates included) queue here.
    const [userStats] = (await runner.query(
      AWARD_USER_STATS_SQL,
      [task.id, userId, game.id],
    )) as StatsRow[];

    // 3. In a fresh snapshot, taken after that lock: the task's aggregate and, again, the stored award (a duplicate
    //    that held the lock before us has committed by now).
    const [latest] = (await runner.query(
      AWARD_LATEST_SQL,
      [task.id, userId, idempotencyKey],
    )) as Array<StatsRow & Omit<StoredAward, 'userId'>>;
    if (latest.awardId) throw new EarlyAnswer(replayOf({ ...latest, userId }, request));
    const taskStats: StatsRow = { awardCount: latest.awardCount ?? 0, firstAt: latest.firstAt, lastAt: latest.lastAt };

    const now = this.clock.now();
    const strategy = this.registry.require(task.strategyId ?? game.strategyId);
    const scored = await runStrategy(this.registry, strategy, params, {
      now,
      history: historyOf(taskStats, userStats),
      data: dto.data ?? {},
      countUserAwardsSince: (since) => this.countSince(runner, task.id, userId, since),
    });
    if ('veto' in scored) throw vetoError(scored.veto);

    // 4. One statement: the award, both aggregates, the wallet and the ledger row. The task's aggregate is locked
    //    only here, until the commit right after, so awards of different users on one task barely wait on each other.
    const [award] = (await runner.query(
      AWARD_WRITE_SQL,
      [
        userId,
        task.id,
        game.id,
        scored.points,
        scored.caseName,
        JSON.stringify(dto.data ?? {}),
        idempotencyKey,
        request.requestHash,
        createdUser,
        stamps.apiKeyUsed,
        stamps.oauthUserId,
        now,
      ],
    )) as Array<{ id: string; createdAt: Date }>;

    return {
      status: 201,
      replayed: false,
      award: {
        id: award.id,
        points: scored.points,
        caseName: scored.caseName,
        isACreatedUser: createdUser,
        gameId: game.id,
        externalTaskId: task.externalTaskId,
        externalUserId: dto.externalUserId,
        created_at: award.createdAt,
      },
    };
  }

  /** `isSimulated: true`: the same checks and strategy, reading the aggregates without locks; nothing is written. */
  private async simulate(request: AwardRequest): Promise<AwardOutcome> {
    const { game, task, params, dto, idempotencyKey } = request;
    const manager = this.dataSource.manager;
    const stored = await this.findUserAndStoredAward(manager, game, task, dto.externalUserId, idempotencyKey);
    if (stored?.awardId) return replayOf(stored, request);
    if (task.status === 'closed') throw new DomainError('gone', TASK_NOT_ACTIVE);
    const userId = stored?.userId;
    const [stats] = (await manager.query(
      `SELECT t.award_count AS "taskCount", t.first_at AS "taskFirstAt", t.last_at AS "taskLastAt",
              u.award_count AS "userCount", u.first_at AS "userFirstAt", u.last_at AS "userLastAt", u.previous_at AS "userPreviousAt"
       FROM (SELECT 1) AS one
       LEFT JOIN task_award_stats t ON t.task_id = $1
       LEFT JOIN task_user_award_stats u ON u.task_id = $1 AND u.user_id = $2`,
      [task.id, userId ?? null],
    )) as Array<Record<string, any>>;
    const now = this.clock.now();
    const strategy = this.registry.require(task.strategyId ?? game.strategyId);
    const scored = await runStrategy(this.registry, strategy, params, {
      now,
      history: historyOf(
        { awardCount: stats.taskCount, firstAt: stats.taskFirstAt, lastAt: stats.taskLastAt },
        { awardCount: stats.userCount, firstAt: stats.userFirstAt, lastAt: stats.userLastAt, previousAt: stats.userPreviousAt },
      ),
      data: dto.data ?? {},
      countUserAwardsSince: async (since) => (userId ? this.countSince(manager, task.id, userId, since) : 0),
    });
    if ('veto' in scored) throw vetoError(scored.veto);
    return {
      status: 200,
      replayed: false,
      award: {
        id: null,
        points: scored.points,
        caseName: scored.caseName,
        isACreatedUser: !userId,
        gameId: game.id,
        externalTaskId: task.externalTaskId,
        externalUserId: dto.externalUserId,
        created_at: now,
        isSimulated: true,
      },
    };
  }

  private async findUserAndStoredAward(
    runner: Pick<QueryRunner, 'query'>,
    game: GameRow,
    task: TaskRow,
    externalUserId: string,
    idempotencyKey: string | null,
  ): Promise<StoredAward | undefined> {
    const [row] = (await runner.query(
      `SELECT u.id AS "userId", p.id AS "awardId", p.points, p.case_name AS "caseName", p.request_hash AS "requestHash",
              p.created_user AS "createdUser", p.created_at AS "createdAt"
       FROM users u
       LEFT JOIN user_points p ON p.task_id = $3 AND p.user_id = u.id AND p.idempotency_key = $4
       WHERE u.owner = $1 AND u.external_user_id = $2`,
      [game.owner, externalUserId, task.id, idempotencyKey],
    )) as StoredAward[];
    return row;
  }

  private async countSince(runner: Pick<QueryRunner, 'query'>, taskId: string, userId: string, since: Date): Promise<number> {
    const [{ count }] = (await runner.query(
      `SELECT count(*)::int AS count FROM user_points WHERE task_id = $1 AND user_id = $2 AND created_at > $3`,
      [taskId, userId, since],
    )) as Array<{ count: number }>;
    return count;
  }

  private async paramsOf(game: GameRow, task: TaskRow): Promise<ScoringParams> {
    const rows = (await this.dataSource.query(
      `SELECT 'game' AS scope, id, key, value, created_at FROM game_params WHERE game_id = $1
       UNION ALL
       SELECT 'task' AS scope, id, key, value, created_at FROM task_params WHERE task_id = $2
       ORDER BY created_at, key`,
      [game.id, task.id],
    )) as Array<ParamRow & { scope: 'game' | 'task' }>;
    return { game: rows.filter((row) => row.scope === 'game'), task: rows.filter((row) => row.scope === 'task') };
  }
}

/** The header key, else `data.eventId`; at most 255 characters. */
export function idempotencyKeyOf(dto: AwardPointsDto, headerKey?: string): string | null {
  if (headerKey !== undefined) {
    if (headerKey.length === 0 || headerKey.length > MAX_KEY_LENGTH) {
      throw validationFailed([{ field: 'Idempotency-Key', message: `Idempotency-Key must be 1-${MAX_KEY_LENGTH} characters` }]);
    }
    return headerKey;
  }
  const eventId: unknown = dto.data?.eventId;
  if (eventId === undefined || eventId === null) return null;
  if ((typeof eventId !== 'string' && typeof eventId !== 'number') || String(eventId).length === 0 || String(eventId).length > MAX_KEY_LENGTH) {
    throw validationFailed([{ field: 'data.eventId', message: `data.eventId must be a string or number of 1-${MAX_KEY_LENGTH} characters` }]);
  }
  return String(eventId);
}

function replayOf(stored: StoredAward, { game, task, dto, requestHash }: AwardRequest): AwardOutcome {
  if (stored.requestHash !== requestHash) throw conflict(IDEMPOTENCY_MISMATCH);
  return {
    status: 200,
    replayed: true,
    award: {
      id: stored.awardId,
      points: Number(stored.points),
      caseName: stored.caseName!,
      isACreatedUser: Boolean(stored.createdUser),
      gameId: game.id,
      externalTaskId: task.externalTaskId,
      externalUserId: dto.externalUserId,
      created_at: stored.createdAt!,
    },
  };
}
