import type { ScoringStrategy, StrategyInput, StrategyResult, StrategyVariables } from './strategy.js';

/** Rewards steady effort: the more awards the user earned on the task in the last interval, the more points. */
export class ConstantEffortStrategy implements ScoringStrategy {
  readonly id = 'constantEffortStrategy';
  readonly name = 'ConstantEffortStrategy';
  readonly description = 'A strategy that rewards consistent effort over 5-minute intervals.';
  readonly version = '0.0.1';
  readonly variables = [
    { name: 'variable_constant_effort_interval_minutes', type: 'integer', defaultValue: 5 },
    { name: 'variable_max_points', type: 'integer', defaultValue: 100 },
  ] as const;

  async compute({ now, countUserAwardsSince }: StrategyInput, variables: StrategyVariables): Promise<StrategyResult> {
    const intervalMinutes = Number(variables.variable_constant_effort_interval_minutes);
    const maxPoints = Number(variables.variable_max_points);
    const recent = await countUserAwardsSince(new Date(now.getTime() - intervalMinutes * 60_000));
    if (recent > 0) return { points: Math.min(recent + 1, maxPoints), caseName: 'ConstantEffortReward' };
    return { points: 1, caseName: 'BasicReward' };
  }
}
