import { createHmac } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthContext } from '../auth/auth-context.js';
import { Clock } from '../common/clock.js';
import { forbidden } from '../common/domain-error.js';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/config.schema.js';
import { GameAccess, type ParamRow } from '../games/game-access.service.js';
import { StrategyRegistry } from '../strategies/strategy-registry.js';
import { UserDirectory } from '../users/user-directory.service.js';
import { canonicalJson } from './canonical-json.js';
import type { SimulatedTaskDto, SimulationDto } from './dto/points.dto.js';
import { historyOf, runStrategy } from './scoring.js';

const VALIDITY_MS = 15 * 60_000;

interface OpenTaskRow {
  id: string;
  externalTaskId: string;
  strategyId: string | null;
  taskCount: string | null;
  taskFirstAt: Date | null;
  taskLastAt: Date | null;
  userCount: string | null;
  userFirstAt: Date | null;
  userLastAt: Date | null;
  userPreviousAt: Date | null;
}

/**
 * What each open task of a game would award the caller now (API.md §6, Simulation): the same strategies and
 * aggregates as a real award, read without locks, nothing written. Bound to the token subject, admins included.
 */
@Injectable()
export class SimulationService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly games: GameAccess,
    private readonly users: UserDirectory,
    private readonly registry: StrategyRegistry,
    private readonly clock: Clock,
  ) {}

  async simulate(auth: AuthContext, gameId: string, externalUserId: string): Promise<SimulationDto> {
    if (!auth.oauthUserId || externalUserId !== auth.oauthUserId) throw forbidden('You are not authorized to access this resource.');
    // Game access by the subject (or as admin), whatever API key came along.
    const game = await this.games.require({ ...auth, apiKey: undefined }, gameId);
    const user = await this.users.find(game.owner, externalUserId);
    const tasks = (await this.dataSource.query(
      `SELECT t.id, t.external_task_id AS "externalTaskId", t.strategy_id AS "strategyId",
              ts.award_count AS "taskCount", ts.first_at AS "taskFirstAt", ts.last_at AS "taskLastAt",
              us.award_count AS "userCount", us.first_at AS "userFirstAt", us.last_at AS "userLastAt", us.previous_at AS "userPreviousAt"
       FROM tasks t
       LEFT JOIN task_award_stats ts ON ts.task_id = t.id
       LEFT JOIN task_user_award_stats us ON us.task_id = t.id AND us.user_id = $2
       WHERE t.game_id = $1 AND t.deleted_at IS NULL AND t.status = 'open'
       ORDER BY t.created_at, t.id`,
      [game.id, user?.id ?? null],
    )) as OpenTaskRow[];
    const params = (await this.dataSource.query(
      `SELECT NULL::uuid AS "taskId", id, key, value, created_at FROM game_params WHERE game_id = $1
       UNION ALL
       SELECT task_id, id, key, value, created_at FROM task_params WHERE task_id = ANY($2::uuid[])
       ORDER BY created_at, key`,
      [game.id, tasks.map((task) => task.id)],
    )) as Array<ParamRow & { taskId: string | null }>;
    const gameParams = params.filter((param) => param.taskId === null);

    const now = this.clock.now();
    const expirationDate = new Date(now.getTime() + VALIDITY_MS).toISOString();
    const simulated: SimulatedTaskDto[] = [];
    for (const task of tasks) {
      const strategy = this.registry.require(task.strategyId ?? game.strategyId);
      const scored = await runStrategy(
        this.registry,
        strategy,
        { game: gameParams, task: params.filter((param) => param.taskId === task.id) },
        {
          now,
          history: historyOf(
            { awardCount: task.taskCount, firstAt: task.taskFirstAt, lastAt: task.taskLastAt },
            { awardCount: task.userCount, firstAt: task.userFirstAt, lastAt: task.userLastAt, previousAt: task.userPreviousAt },
          ),
          data: {},
          countUserAwardsSince: async (since) => {
            if (!user) return 0;
            const [{ count }] = (await this.dataSource.query(
              `SELECT count(*)::int AS count FROM user_points WHERE task_id = $1 AND user_id = $2 AND created_at > $3`,
              [task.id, user.id, since],
            )) as Array<{ count: number }>;
            return count;
          },
        },
      );
      // A vetoed task would award nothing, so it is not offered.
      if ('veto' in scored) continue;
      simulated.push({ externalUserId, externalTaskId: task.externalTaskId, caseName: scored.caseName, totalSimulatedPoints: scored.points, expirationDate });
    }
    const simulationHash = createHmac('sha256', this.config.secretKey)
      .update(canonicalJson({ gameId: game.id, externalUserId, tasks: simulated }))
      .digest('hex');
    return { simulationHash, tasks: simulated };
  }
}
