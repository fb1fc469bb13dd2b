import { describe, expect, it } from 'vitest';
import { BUILT_IN_STRATEGIES, StrategyRegistry } from './strategy-registry.js';

describe('StrategyRegistry', () => {
  const registry = new StrategyRegistry();
  const defaultStrategy = registry.require('default');

  it('lists the built-ins and refuses unknown ids with GAME’s wording', () => {
    expect(registry.list().map((strategy) => strategy.id)).toEqual(BUILT_IN_STRATEGIES.map((strategy) => strategy.id));
    expect(registry.list().map((strategy) => strategy.id)).toEqual(['default', 'constantEffortStrategy']);
    expect(() => registry.require('nope')).toThrow('Strategy with id: nope not found');
  });

  it('refuses a param of the wrong type for the variable it names, naming the field', () => {
    expect(registry.checkParams(defaultStrategy, [{ key: 'variable_basic_points', value: 'ten' }])).toEqual([
      { field: 'params.0.value', message: expect.stringContaining('must be an integer') },
    ]);
    expect(registry.checkParams(defaultStrategy, [{ key: 'variable_basic_points', value: 2.5 }])).toHaveLength(1);
    // A variable of another strategy is typed too; keys naming no variable are free-form.
    expect(registry.checkParams(defaultStrategy, [{ key: 'variable_max_points', value: true }])).toHaveLength(1);
    expect(registry.checkParams(defaultStrategy, [{ key: 'colour', value: 'blue' }, { key: 'variable_basic_points', value: 4 }])).toEqual([]);
  });

  it('resolves defaults ← game params ← task params', () => {
    expect(
      registry.resolveVariables(defaultStrategy, [{ key: 'variable_basic_points', value: 5 }, { key: 'variable_bonus_points', value: 20 }], [{ key: 'variable_basic_points', value: 7 }]),
    ).toMatchObject({ variable_basic_points: 7, variable_bonus_points: 20, variable_peak_performer_bonus_points: 15 });
  });
});
