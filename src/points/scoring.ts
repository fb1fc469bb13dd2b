import { unprocessable } from '../common/domain-error.js';
import type { ParamRow } from '../games/game-access.service.js';
import type { StrategyRegistry } from '../strategies/strategy-registry.js';
import { isVeto, type AwardHistory, type ScoringStrategy, type StrategyInput } from '../strategies/strategy.js';

/** A row of `task_award_stats` or `task_user_award_stats` as read by the award and simulation queries. */
export interface StatsRow {
  awardCount: string | number | null;
  firstAt: Date | null;
  lastAt: Date | null;
  previousAt?: Date | null;
}

export function historyOf(task: StatsRow | undefined, user: StatsRow | undefined): AwardHistory {
  return {
    taskCount: Number(task?.awardCount ?? 0),
    taskFirstAt: task?.firstAt ?? null,
    taskLastAt: task?.lastAt ?? null,
    userCount: Number(user?.awardCount ?? 0),
    userFirstAt: user?.firstAt ?? null,
    userLastAt: user?.lastAt ?? null,
    userPreviousAt: user?.previousAt ?? null,
  };
}

export interface ScoringParams {
  game: ParamRow[];
  task: ParamRow[];
}

export type Scored = { points: number; caseName: string } | { veto: string };

/**
 * Runs a strategy with defaults ← game params ← task params. A result that is not a points count comes from the
 * params the client set (e.g. `variable_basic_points: -5`, or two huge values that add up past the limit): a 422
 * that names them, with nothing written, not a 500.
 */
export async function runStrategy(registry: StrategyRegistry, strategy: ScoringStrategy, params: ScoringParams, input: StrategyInput): Promise<Scored> {
  const result = await strategy.compute(input, registry.resolveVariables(strategy, params.game, params.task));
  if (isVeto(result)) return result;
  if (!Number.isSafeInteger(result.points) || result.points < 0 || result.points > 2_147_483_647) {
    throw unprocessable(`Strategy ${strategy.id} computed ${String(result.points)} points (${result.caseName}), outside 0 to 2147483647: check the game and task params.`);
  }
  return result;
}

/** The 422 of a strategy veto, with the strategy's reason as the detail. */
export function vetoError(veto: string) {
  return unprocessable(veto);
}
