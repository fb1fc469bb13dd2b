import type { ScoringStrategy, StrategyInput, StrategyResult, StrategyVariables } from './strategy.js';

const seconds = (later: Date, earlier: Date) => (later.getTime() - earlier.getTime()) / 1000;

/**
 * GAME's EnhancedGamificationStrategy (API.md §8): compares the user's pace on a task with everybody's, using only
 * counts and first/last/previous award times of the task and of the user on the task.
 */
export class DefaultStrategy implements ScoringStrategy {
  readonly id = 'default';
  readonly name = 'EnhancedGamificationStrategy';
  readonly description = 'A more advanced gamification strategy with additional points and penalties.';
  readonly version = '0.0.2';
  readonly variables = [
    { name: 'variable_basic_points', type: 'integer', defaultValue: 1 },
    { name: 'variable_bonus_points', type: 'integer', defaultValue: 10 },
    { name: 'variable_individual_over_global_points', type: 'integer', defaultValue: 3 },
    { name: 'variable_peak_performer_bonus_points', type: 'integer', defaultValue: 15 },
    { name: 'variable_global_advantage_adjustment_points', type: 'integer', defaultValue: 7 },
    { name: 'variable_individual_adjustment_points', type: 'integer', defaultValue: 8 },
  ] as const;

  compute({ now, history }: StrategyInput, variables: StrategyVariables): StrategyResult {
    const points = (name: string) => Number(variables[name]);
    const basic = points('variable_basic_points');
    const { taskCount, userCount } = history;

    if (taskCount < 2) return { points: basic, caseName: 'BasicEngagement' };
    if (userCount <= 2) return { points: basic, caseName: 'default' };

    const userAverage = history.userFirstAt && history.userLastAt ? seconds(history.userLastAt, history.userFirstAt) / (userCount - 1) : -1;
    const allAverage = history.taskFirstAt && history.taskLastAt ? seconds(history.taskLastAt, history.taskFirstAt) / (taskCount - 1) : -1;
    if (userAverage < allAverage) return { points: basic + points('variable_bonus_points'), caseName: 'PerformanceBonus' };

    const lastWindow = history.userLastAt && history.userPreviousAt ? seconds(history.userLastAt, history.userPreviousAt) : 0;
    const newWindow = history.userLastAt ? seconds(now, history.userLastAt) : 0;
    const diff = newWindow - lastWindow;
    if (diff > 0) {
      if (diff < allAverage) return { points: points('variable_individual_over_global_points'), caseName: 'IndividualOverGlobal' };
      if (diff < userAverage) return { points: points('variable_peak_performer_bonus_points'), caseName: 'PeakPerformerBonus' };
      if (diff > userAverage) {
        return { points: points('variable_global_advantage_adjustment_points'), caseName: 'GlobalAdvantageAdjustment' };
      }
    }
    if (diff < 0) return { points: points('variable_individual_adjustment_points'), caseName: 'IndividualAdjustment' };
    return { points: basic, caseName: 'default' };
  }
}
