import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StrategyRegistry } from '../../src/strategies/strategy-registry.js';
import type { ScoringStrategy, StrategyInput } from '../../src/strategies/strategy.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { createApiKey } from '../support/auth.js';
import { award, count, createGame, createTask, expectProblem, type Caller } from './core-helpers.js';

/** A strategy that refuses awards whose payload says so, the way a fraud or cooldown rule would. */
class GatekeeperStrategy implements ScoringStrategy {
  readonly id = 'gatekeeperStrategy';
  readonly name = 'Gatekeeper';
  readonly description = 'Refuses awards flagged as suspicious; 5 points otherwise.';
  readonly version = '1.0.0';
  readonly variables = [{ name: 'variable_points', type: 'integer' as const, defaultValue: 5 }];
  compute(input: StrategyInput, variables: Record<string, string | number | boolean>) {
    if (input.data.suspicious === true) return { veto: 'Award refused: the event looks suspicious.' };
    return { points: Number(variables.variable_points), caseName: 'Gatekeeper' };
  }
}

describe('a strategy veto', () => {
  let t: TestApp;
  let owner: Caller;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMITS_ENABLED: 'false' });
    t.app.get(StrategyRegistry).register(new GatekeeperStrategy());
    owner = { key: (await createApiKey(t)).key };
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers 422 with the strategy’s reason and writes nothing; otherwise the strategy scores', async () => {
    const game = await createGame(t, owner, { strategyId: 'gatekeeperStrategy', params: [{ key: 'variable_points', value: 7 }] });
    const task = await createTask(t, owner, game.gameId);
    const [awards, ledger, users] = [await count(t, 'user_points'), await count(t, 'wallet_transactions'), await count(t, 'users')];
    const refused = await award(t, owner, game.gameId, task.externalTaskId, { externalUserId: 'sly', data: { suspicious: true } });
    expectProblem(refused, 422, 'Award refused: the event looks suspicious.');
    const dryRun = await award(t, owner, game.gameId, task.externalTaskId, { externalUserId: 'sly', data: { suspicious: true }, isSimulated: true });
    expectProblem(dryRun, 422, 'Award refused: the event looks suspicious.');
    expect([await count(t, 'user_points'), await count(t, 'wallet_transactions'), await count(t, 'users')]).toEqual([awards, ledger, users]);

    const granted = await award(t, owner, game.gameId, task.externalTaskId, { externalUserId: 'honest' });
    expect(granted.status).toBe(201);
    expect(granted.body).toMatchObject({ points: 7, caseName: 'Gatekeeper' });
  });
});
