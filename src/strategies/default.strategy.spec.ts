import { describe, expect, it } from 'vitest';
import { DefaultStrategy } from './default.strategy.js';
import type { AwardHistory, StrategyInput } from './strategy.js';
import { StrategyRegistry } from './strategy-registry.js';

const registry = new StrategyRegistry();
const strategy = new DefaultStrategy();
const defaults = registry.resolveVariables(strategy, []);
const at = (time: string) => new Date(`2026-11-25T${time}Z`);

/** Replays a timeline of (user, time) awards on one task, keeping the same running aggregates as the database. */
function replay(events: Array<[string, string]>) {
  const task = { count: 0, first: null as Date | null, last: null as Date | null };
  const users = new Map<string, { count: number; first: Date | null; last: Date | null; previous: Date | null }>();
  const results: string[] = [];
  for (const [user, time] of events) {
    const now = at(time);
    const mine = users.get(user) ?? { count: 0, first: null, last: null, previous: null };
    const history: AwardHistory = {
      taskCount: task.count,
      taskFirstAt: task.first,
      taskLastAt: task.last,
      userCount: mine.count,
      userFirstAt: mine.first,
      userLastAt: mine.last,
      userPreviousAt: mine.previous,
    };
    const result = strategy.compute({ now, history, data: {}, countUserAwardsSince: async () => 0 } as StrategyInput, defaults);
    if ('veto' in result) throw new Error('unexpected veto');
    results.push(`${result.points} ${result.caseName}`);
    task.count++;
    task.first ??= now;
    task.last = now;
    users.set(user, { count: mine.count + 1, first: mine.first ?? now, last: now, previous: mine.last });
  }
  return results;
}

const base: Array<[string, string]> = [
  ['alice', '10:00:00'],
  ['bob', '10:00:30'],
  ['alice', '10:01:00'],
  ['alice', '10:02:00'],
];

describe('default strategy (GAME EnhancedGamificationStrategy)', () => {
  it('describes itself with GAME’s id, name, version and variables', () => {
    expect(strategy.id).toBe('default');
    expect(strategy.name).toBe('EnhancedGamificationStrategy');
    expect(strategy.version).toBe('0.0.2');
    expect(defaults).toEqual({
      variable_basic_points: 1,
      variable_bonus_points: 10,
      variable_individual_over_global_points: 3,
      variable_peak_performer_bonus_points: 15,
      variable_global_advantage_adjustment_points: 7,
      variable_individual_adjustment_points: 8,
    });
  });

  it('gives the worked example of API.md §8', () => {
    expect(replay([...base, ['alice', '10:02:40']])).toEqual([
      '1 BasicEngagement',
      '1 BasicEngagement',
      '1 default',
      '1 default',
      '8 IndividualAdjustment',
    ]);
  });

  it.each([
    ['10:03:30', '3 IndividualOverGlobal'],
    ['10:03:50', '15 PeakPerformerBonus'],
    ['10:04:00', '1 default'],
    ['10:04:30', '7 GlobalAdvantageAdjustment'],
  ])('gives the variant with the fifth event at %s: %s', (time, expected) => {
    expect(replay([...base, ['alice', time]]).at(-1)).toBe(expected);
  });

  it('gives PerformanceBonus when the user is faster than everybody', () => {
    const results = replay([
      ['bob', '09:00:00'],
      ['bob', '09:30:00'],
      ['alice', '10:00:00'],
      ['alice', '10:00:20'],
      ['alice', '10:00:40'],
      ['alice', '10:01:00'],
    ]);
    expect(results.at(-1)).toBe('11 PerformanceBonus');
  });

  it('uses overridden variables (game params, then task params)', () => {
    const variables = registry.resolveVariables(strategy, [{ key: 'variable_basic_points', value: 5 }], [{ key: 'variable_basic_points', value: 9 }]);
    const result = strategy.compute(
      {
        now: at('10:00:00'),
        history: { taskCount: 0, taskFirstAt: null, taskLastAt: null, userCount: 0, userFirstAt: null, userLastAt: null, userPreviousAt: null },
        data: {},
        countUserAwardsSince: async () => 0,
      },
      variables,
    );
    expect(result).toEqual({ points: 9, caseName: 'BasicEngagement' });
  });
});
