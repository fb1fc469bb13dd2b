import { Injectable } from '@nestjs/common';
import { notFound, type FieldError } from '../common/domain-error.js';
import { ConstantEffortStrategy } from './constant-effort.strategy.js';
import { DefaultStrategy } from './default.strategy.js';
import type { ScoringStrategy, StrategyVariable, StrategyVariables, VariableType, VariableValue } from './strategy.js';

/** Every strategy the API offers. Adding one is one class and one line here. */
export const BUILT_IN_STRATEGIES: readonly ScoringStrategy[] = [
  new DefaultStrategy(),
  new ConstantEffortStrategy(),
];

export const DEFAULT_STRATEGY_ID = 'default';

export interface ParamLike {
  key: string;
  value: unknown;
}

export function matchesType(value: unknown, type: VariableType): boolean {
  switch (type) {
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'string':
      return typeof value === 'string';
    case 'boolean':
      return typeof value === 'boolean';
  }
}

const article = (type: VariableType) => (type === 'integer' ? 'an integer' : `a ${type}`);

@Injectable()
export class StrategyRegistry {
  private readonly byId = new Map<string, ScoringStrategy>();

  constructor() {
    for (const strategy of BUILT_IN_STRATEGIES) this.register(strategy);
  }

  /** Adds a strategy at run time (built-ins are registered through `BUILT_IN_STRATEGIES`). */
  register(strategy: ScoringStrategy): void {
    if (this.byId.has(strategy.id)) throw new Error(`Duplicate strategy id: ${strategy.id}`);
    this.byId.set(strategy.id, strategy);
  }

  list(): ScoringStrategy[] {
    return [...this.byId.values()];
  }

  find(id: string): ScoringStrategy | undefined {
    return this.byId.get(id);
  }

  /** The strategy or `404 Strategy not found with id: {id}` (the wording of the /strategies routes). */
  get(id: string): ScoringStrategy {
    const strategy = this.byId.get(id);
    if (!strategy) throw notFound(`Strategy not found with id: ${id}`);
    return strategy;
  }

  /** The strategy or `404 Strategy with id: {x} not found` (the wording of game and task bodies). */
  require(id: string): ScoringStrategy {
    const strategy = this.byId.get(id);
    if (!strategy) throw notFound(`Strategy with id: ${id} not found`);
    return strategy;
  }

  /**
   * Checks params against the variables they name: a param whose key names a variable of `strategy` (or, failing
   * that, of any registered strategy) must have that variable's type. Keys naming no variable are free-form.
   */
  checkParams(strategy: ScoringStrategy, params: readonly ParamLike[], field = 'params'): FieldError[] {
    const errors: FieldError[] = [];
    params.forEach((param, index) => {
      const variable = this.variableNamed(strategy, param.key);
      if (variable && !matchesType(param.value, variable.type)) {
        errors.push({
          field: `${field}.${index}.value`,
          message: `value of ${param.key} must be ${article(variable.type)} (a variable of strategy ${variable.strategyId})`,
        });
      }
    });
    return errors;
  }

  /** Variables after overriding the defaults with game params, then task params (values of the right type only). */
  resolveVariables(strategy: ScoringStrategy, gameParams: readonly ParamLike[], taskParams: readonly ParamLike[] = []): StrategyVariables {
    const variables: StrategyVariables = {};
    for (const variable of strategy.variables) variables[variable.name] = variable.defaultValue;
    for (const params of [gameParams, taskParams]) {
      for (const param of params) {
        const variable = strategy.variables.find((candidate) => candidate.name === param.key);
        if (variable && matchesType(param.value, variable.type)) variables[variable.name] = param.value as VariableValue;
      }
    }
    return variables;
  }

  private variableNamed(strategy: ScoringStrategy, key: string): (StrategyVariable & { strategyId: string }) | undefined {
    const own = strategy.variables.find((variable) => variable.name === key);
    if (own) return { ...own, strategyId: strategy.id };
    for (const other of this.byId.values()) {
      const variable = other.variables.find((candidate) => candidate.name === key);
      if (variable) return { ...variable, strategyId: other.id };
    }
    return undefined;
  }
}
