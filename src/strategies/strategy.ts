/** A variable a strategy reads, with its JSON type and default. Game params, then task params, override it. */
export type VariableType = 'integer' | 'number' | 'string' | 'boolean';
export type VariableValue = string | number | boolean;
export type StrategyVariables = Record<string, VariableValue>;

export interface StrategyVariable {
  name: string;
  type: VariableType;
  defaultValue: VariableValue;
}

/**
 * What a strategy may know about the past, all taken before the award being computed, over one task (and so one
 * game): running aggregates, never a scan of the history.
 */
export interface AwardHistory {
  /** Awards on the task, all users. */
  taskCount: number;
  taskFirstAt: Date | null;
  taskLastAt: Date | null;
  /** This user's awards on the task. */
  userCount: number;
  userFirstAt: Date | null;
  userLastAt: Date | null;
  /** The user's award before `userLastAt`. */
  userPreviousAt: Date | null;
}

export interface StrategyInput {
  now: Date;
  history: AwardHistory;
  /** The award's `data` payload. */
  data: Record<string, unknown>;
  /** This user's awards on the task at or after `since` (an indexed count; keep the window short). */
  countUserAwardsSince(since: Date): Promise<number>;
}

export type StrategyResult = { points: number; caseName: string } | { veto: string };

/**
 * A scoring strategy. Add one by writing a class that implements this interface and adding one line to
 * `BUILT_IN_STRATEGIES` in `strategy-registry.ts`.
 */
export interface ScoringStrategy {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly version: string;
  readonly variables: readonly StrategyVariable[];
  compute(input: StrategyInput, variables: StrategyVariables): StrategyResult | Promise<StrategyResult>;
}

export function isVeto(result: StrategyResult): result is { veto: string } {
  return 'veto' in result;
}
