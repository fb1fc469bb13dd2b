import { describe, expect, it } from 'vitest';
import { ConstantEffortStrategy } from './constant-effort.strategy.js';
import type { StrategyInput } from './strategy.js';
import { StrategyRegistry } from './strategy-registry.js';

const registry = new StrategyRegistry();
const strategy = new ConstantEffortStrategy();
const now = new Date('2026-11-25T10:00:00Z');
const history = { taskCount: 0, taskFirstAt: null, taskLastAt: null, userCount: 0, userFirstAt: null, userLastAt: null, userPreviousAt: null };

function input(recent: number, seen: Date[] = []): StrategyInput {
  return {
    now,
    history,
    data: {},
    countUserAwardsSince: async (since) => {
      seen.push(since);
      return recent;
    },
  };
}

describe('constantEffortStrategy', () => {
  it('gives a basic reward when nothing happened in the interval', async () => {
    expect(await strategy.compute(input(0), registry.resolveVariables(strategy, []))).toEqual({ points: 1, caseName: 'BasicReward' });
  });

  it('gives k + 1 for k recent awards, capped by variable_max_points', async () => {
    const variables = registry.resolveVariables(strategy, []);
    expect(await strategy.compute(input(3), variables)).toEqual({ points: 4, caseName: 'ConstantEffortReward' });
    expect(await strategy.compute(input(500), variables)).toEqual({ points: 100, caseName: 'ConstantEffortReward' });
    const capped = registry.resolveVariables(strategy, [{ key: 'variable_max_points', value: 3 }]);
    expect(await strategy.compute(input(5), capped)).toEqual({ points: 3, caseName: 'ConstantEffortReward' });
  });

  it('counts over the configured interval', async () => {
    const seen: Date[] = [];
    await strategy.compute(input(1, seen), registry.resolveVariables(strategy, [], [{ key: 'variable_constant_effort_interval_minutes', value: 10 }]));
    expect(seen).toEqual([new Date('2026-11-25T09:50:00Z')]);
  });
});
