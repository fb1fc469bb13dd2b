import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AuthContext } from '../auth/auth-context.js';
import { Clock } from '../common/clock.js';
import { conflict, DomainError } from '../common/domain-error.js';
import { validationFailed } from '../common/validation.js';
import { APP_CONFIG } from '../config/config.module.js';
import { prepared } from '../database/prepared.js';
import { PreparedStatementRunner, type Session, type Statements } from '../database/prepared-statements.js';
import type { AppConfig } from '../config/config.schema.js';
import { assertGameAccess, gameNotFound } from '../games/game-access.service.js';
import { isUniqueViolation } from '../games/params.js';
import { isUuid, stampsOf } from '../games/tenancy.js';
import { PointsMetrics } from '../observability/points-metrics.js';
import { StrategyRegistry } from '../strategies/strategy-registry.js';
import { taskNotFoundByExternalId } from '../tasks/task-lookup.service.js';
import { UserDirectory } from '../users/user-directory.service.js';
import { AWARD_LOCK_USER_STATS, AWARD_READ, AWARD_WRITE, awardWriteParams, type AwardReadRow } from './award.sql.js';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import type { AwardDto, AwardPointsDto } from './dto/award.dto.js';
import { historyOf, runStrategy, vetoError } from './scoring.js';

export const IDEMPOTENCY_MISMATCH = 'Idempotency-Key was already used with a different request.';
export const TASK_NOT_ACTIVE = 'Task is not active';
const MAX_KEY_LENGTH = 255;
const COUNT_SINCE = prepared(
  'award_count_user_since',
  `SELECT count(*)::int AS count FROM user_points WHERE task_id = $1 AND user_id = $2 AND created_at > $3`,
);

export interface AwardOutcome {
  status: 200 | 201;
  replayed: boolean;
  award: AwardDto;
}

/** One award request, checked: who asks, where, what, and under which idempotency key. */
interface AwardRequest {
  auth: AuthContext;
  gameId: string;
  externalTaskId: string;
  dto: AwardPointsDto;
  idempotencyKey: string | null;
  requestHash: string;
}

/** An attempt's result: the outcome, or — its write lost the claim to a concurrent award — who to lock for the retry. */
type Attempt = { outcome: AwardOutcome } | { lost: { gameId: string; owner: string; taskId: string; userId: string | null } };

/**
 * Awards points (API.md §6) in two round trips on one pooled connection and no explicit transaction: one read (game,
 * task, params, user, both running aggregates and the award stored under the idempotency key, in one snapshot), the
 * strategy, and one write statement that claims the user's aggregate on the task with a compare-and-set on its award
 * count and, only if that claim holds, writes the award, the task's aggregate, the wallet and the ledger row
 * (award.sql.ts). Row locks live for that one statement, so awards of different users on one task barely wait on each
 * other.
 *
 * When the claim fails — another award of the same user on the same task (a duplicate included) committed after our
 * read — nothing was written, and the award is redone on the locked path: a transaction that first locks the user's
 * aggregate, then runs the same read and write, which can no longer be overtaken. Concurrent awards of one user are
 * therefore serialised, duplicates are answered as replays, and none is lost or counted twice.
 * Its cost does not depend on the history: strategies read running aggregates only.
 */
@Injectable()
export class AwardService {
  constructor(
    private readonly statements: PreparedStatementRunner,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UserDirectory,
    private readonly registry: StrategyRegistry,
    private readonly clock: Clock,
    private readonly metrics: PointsMetrics,
  ) {}

  async award(auth: AuthContext, gameId: string, externalTaskId: string, dto: AwardPointsDto, headerKey?: string): Promise<AwardOutcome> {
    const idempotencyKey = idempotencyKeyOf(dto, headerKey);
    if (!isUuid(gameId)) throw gameNotFound(gameId);
    const requestHash = sha256Hex(canonicalJson({ externalUserId: dto.externalUserId, data: dto.data ?? {} }));
    const request: AwardRequest = { auth, gameId, externalTaskId, dto, idempotencyKey, requestHash };

    for (let attempt = 0; ; attempt++) {
      try {
        // One pooled connection for the read, the write and (rarely) the locked path: one wait in the pool's queue.
        const outcome = await this.statements.session(async (db) => {
          const first = await this.attempt(db, request);
          return 'outcome' in first ? first.outcome : this.awardLocked(db, request, first.lost);
        });
        if (!outcome.replayed && outcome.status === 201) this.metrics.awarded();
        return outcome;
      } catch (error) {
        // The unique idempotency scope is the last guard; the claim on the user's aggregate makes this unreachable.
        if (attempt < 2 && idempotencyKey !== null && isUniqueViolation(error, 'user_points_idempotency_key')) continue;
        throw error;
      }
    }
  }

  /**
   * The locked path: in one transaction on the session's connection, the user (created with a wallet if new), a lock on
   * their aggregate on the task, then the same read and write as the first attempt — which cannot lose its claim while
   * the lock is held.
   */
  private async awardLocked(
    session: Session,
    request: AwardRequest,
    lost: { gameId: string; owner: string; taskId: string; userId: string | null },
  ): Promise<AwardOutcome> {
    return session.transaction(async (db, rollback) => {
      let userId = lost.userId;
      let createdUser = false;
      if (!userId) {
        const ensured = await this.users.ensure(db, lost.owner, request.dto.externalUserId, stampsOf(request.auth));
        userId = ensured.id;
        createdUser = ensured.created;
      }
      await db.run(AWARD_LOCK_USER_STATS, [lost.taskId, userId, lost.gameId, request.dto.externalUserId]);
      const result = await this.attempt(db, request, createdUser);
      if (!('outcome' in result)) throw new Error('An award lost its claim on the user aggregate it had locked');
      // A replay writes nothing: the user and aggregate this transaction may have created go with the rollback.
      if (result.outcome.replayed) rollback();
      return result.outcome;
    });
  }

  /**
   * Read, check, score and (unless simulated) write. `createdUser` is set on the locked path when its transaction
   * created the user (the read then already sees it).
   */
  private async attempt(db: Statements, request: AwardRequest, createdUser = false): Promise<Attempt> {
    const { auth, gameId, externalTaskId, dto, idempotencyKey } = request;
    const [row] = await db.run<AwardReadRow>(AWARD_READ, [
      gameId,
      externalTaskId.includes('\u0000') ? null : externalTaskId,
      dto.externalUserId,
      idempotencyKey,
    ]);
    if (!row) throw gameNotFound(gameId);
    assertGameAccess(auth, row);
    if (!row.taskId) throw taskNotFoundByExternalId(externalTaskId, row.gameId);
    if (row.awardId) return { outcome: replayOf(row, request) };
    if (row.taskStatus === 'closed') throw new DomainError('gone', TASK_NOT_ACTIVE);

    const userId = row.userId;
    const now = this.clock.now();
    const strategy = this.registry.require(row.taskStrategyId ?? row.gameStrategyId);
    const scored = await runStrategy(this.registry, strategy, { game: row.gameParams, task: row.taskParams }, {
      now,
      history: historyOf(
        { awardCount: row.taskCount, firstAt: row.taskFirstAt, lastAt: row.taskLastAt },
        { awardCount: row.userCount, firstAt: row.userFirstAt, lastAt: row.userLastAt, previousAt: row.userPreviousAt },
      ),
      data: dto.data ?? {},
      countUserAwardsSince: async (since) => (userId ? this.countSince(db, row.taskId!, userId, since) : 0),
    });
    if ('veto' in scored) throw vetoError(scored.veto);

    const answer = (id: string | null, createdAt: Date, isACreatedUser: boolean): AwardDto => ({
      id,
      points: scored.points,
      caseName: scored.caseName,
      isACreatedUser,
      gameId: row.gameId,
      externalTaskId: row.externalTaskId!,
      externalUserId: dto.externalUserId,
      created_at: createdAt,
    });
    if (dto.isSimulated) return { outcome: { status: 200, replayed: false, award: { ...answer(null, now, !userId), isSimulated: true } } };

    const stamps = stampsOf(auth);
    const createUser = !userId;
    const [written] = await db.run<{ id: string; createdAt: Date }>(
      AWARD_WRITE,
      awardWriteParams({
        userId: userId ?? randomUUID(),
        taskId: row.taskId,
        gameId: row.gameId,
        points: scored.points,
        caseName: scored.caseName,
        data: dto.data ?? {},
        idempotencyKey,
        requestHash: request.requestHash,
        createdUser: createUser || createdUser,
        apiKeyUsed: stamps.apiKeyUsed,
        oauthUserId: stamps.oauthUserId,
        at: now,
        createUser,
        owner: row.owner,
        externalUserId: dto.externalUserId,
        conversionRate: this.config.defaultConversionRate,
        expectedUserCount: row.userCount,
      }),
    );
    if (!written) return { lost: { gameId: row.gameId, owner: row.owner, taskId: row.taskId, userId } };
    return { outcome: { status: 201, replayed: false, award: answer(written.id, written.createdAt, createUser || createdUser) } };
  }

  private async countSince(db: Statements, taskId: string, userId: string, since: Date): Promise<number> {
    const [{ count }] = await db.run<{ count: number }>(COUNT_SINCE, [taskId, userId, since]);
    return count;
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

function replayOf(stored: AwardReadRow, { dto, requestHash }: AwardRequest): AwardOutcome {
  if (stored.awardRequestHash !== requestHash) throw conflict(IDEMPOTENCY_MISMATCH);
  return {
    status: 200,
    replayed: true,
    award: {
      id: stored.awardId,
      points: Number(stored.awardPoints),
      caseName: stored.awardCaseName!,
      isACreatedUser: Boolean(stored.awardCreatedUser),
      gameId: stored.gameId,
      externalTaskId: stored.externalTaskId!,
      externalUserId: dto.externalUserId,
      created_at: stored.awardCreatedAt!,
    },
  };
}
