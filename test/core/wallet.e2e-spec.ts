import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { award, call, cast, createGame, createTask, db, expectInvalid, expectProblem, type Cast } from './core-helpers.js';

describe('wallets and conversions', () => {
  let t: TestApp;
  let c: Cast;
  let gameId: string;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMITS_ENABLED: 'false', DATABASE_POOL_SIZE: '20' });
    c = await cast(t);
    gameId = (await createGame(t, c.a, { params: [{ key: 'variable_basic_points', value: 7 }, { key: 'variable_individual_adjustment_points', value: 7 }] })).gameId;
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The invariant of API.md §7 for every wallet: balances = sums of the ledger, never negative. */
  async function expectLedgerInvariant() {
    const rows = await db(t).query(
      `SELECT w.id, w.points_balance::text AS points, w.coins_balance::text AS coins,
              COALESCE(sum(x.points), 0)::text AS ledger_points, COALESCE(sum(x.coins), 0)::numeric(20,6)::text AS ledger_coins
       FROM wallets w LEFT JOIN wallet_transactions x ON x.wallet_id = w.id GROUP BY w.id`,
    );
    for (const row of rows) {
      expect(row.points).toBe(row.ledger_points);
      expect(row.coins).toBe(row.ledger_coins);
      expect(BigInt(row.points) >= 0n).toBe(true);
    }
  }

  it('reads the wallet with its newest transactions first, numbers as JSON numbers', async () => {
    const task = await createTask(t, c.a, gameId);
    await award(t, c.a, gameId, task.externalTaskId, { externalUserId: 'saver' });
    await award(t, c.a, gameId, task.externalTaskId, { externalUserId: 'saver' });
    const converted = await call(t, c.a, 'POST', '/users/saver/convert', { points: 3 });
    expect(converted.status).toBe(201);
    // 3 points at the default rate of 100 = 0.03 coins, exactly.
    expect(converted.body).toMatchObject({
      points: 3,
      conversionRate: 100,
      convertedAmount: 0.03,
      convertedCurrency: 'coins',
      wallet: { pointsBalance: 11, coinsBalance: 0.03, conversionRate: 100 },
    });
    const wallet = await call(t, c.a, 'GET', '/users/saver/wallet');
    expect(wallet.status).toBe(200);
    expect(wallet.body.wallet).toEqual({ pointsBalance: 11, coinsBalance: 0.03, conversionRate: 100 });
    expect(wallet.body.walletTransactions.map((row: { transactionType: string; points: number; coins: number }) => [row.transactionType, row.points, row.coins])).toEqual([
      ['ConvertPoints', -3, 0.03],
      ['AssignPoints', 7, 0],
      ['AssignPoints', 7, 0],
    ]);
    expect(wallet.body.walletTransactions[0]).toMatchObject({ id: converted.body.transactionId, appliedConversionRate: 100 });
  });

  it('previews a conversion exactly to 6 decimals and says whether there are enough points', async () => {
    await db(t).query(`UPDATE wallets SET conversion_rate = 3 WHERE user_id = (SELECT id FROM users WHERE external_user_id = 'saver')`);
    const preview = await call(t, c.a, 'GET', '/users/saver/convert/preview?points=10');
    expect(preview.body).toEqual({ points: 10, conversionRate: 3, convertedAmount: 3.333333, convertedCurrency: 'coins', haveEnoughPoints: true });
    expect((await call(t, c.a, 'GET', '/users/saver/convert/preview?points=12')).body.haveEnoughPoints).toBe(false);
    const converted = await call(t, c.a, 'POST', '/users/saver/convert', { points: 2 });
    expect(converted.body).toMatchObject({ convertedAmount: 0.666667, wallet: { pointsBalance: 9, coinsBalance: 0.696667 } });
    await expectLedgerInvariant();
  });

  it('refuses an overdraft with 422 Not enough points and changes nothing', async () => {
    const before = (await call(t, c.a, 'GET', '/users/saver/wallet')).body;
    expectProblem(await call(t, c.a, 'POST', '/users/saver/convert', { points: 10 }), 422, 'Not enough points');
    expect((await call(t, c.a, 'GET', '/users/saver/wallet')).body).toEqual(before);
  });

  it('validates conversions and previews', async () => {
    expectInvalid(await call(t, c.a, 'POST', '/users/saver/convert', { points: 0 }), 'points');
    expectInvalid(await call(t, c.a, 'POST', '/users/saver/convert', { points: 1.5 }), 'points');
    expectInvalid(await call(t, c.a, 'POST', '/users/saver/convert', { points: '5' }), 'points');
    expectInvalid(await call(t, c.a, 'POST', '/users/saver/convert', { points: 5, extra: true }), 'extra');
    expectInvalid(await call(t, c.a, 'GET', '/users/saver/convert/preview'), 'points');
    expectInvalid(await call(t, c.a, 'GET', '/users/saver/convert/preview?points=abc'), 'points');
    expectProblem(await call(t, c.a, 'GET', '/users/nobody/wallet'), 404, 'Not found externalUserId : nobody');
    expectProblem(await call(t, c.a, 'POST', '/users/nobody/convert', { points: 1 }), 404, 'Not found externalUserId : nobody');
  });

  it('keeps balance = ledger and never negative under 200 concurrent awards and conversions on one wallet', async () => {
    const tasks = await Promise.all(Array.from({ length: 4 }, () => createTask(t, c.a, gameId)));
    await award(t, c.a, gameId, tasks[0].externalTaskId, { externalUserId: 'hot' });
    const operations = Array.from({ length: 200 }, (_, index) =>
      index % 2 === 0
        ? award(t, c.a, gameId, tasks[index % 4].externalTaskId, { externalUserId: 'hot' })
        : call(t, c.a, 'POST', '/users/hot/convert', { points: 5 }),
    );
    const answers = await Promise.all(operations);
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.every((status) => status === 201 || status === 422), JSON.stringify(answers.find((answer) => ![201, 422].includes(answer.status))?.body)).toBe(true);
    const refused = answers.filter((answer) => answer.status === 422);
    expect(refused.every((answer) => answer.body.detail === 'Not enough points')).toBe(true);
    await expectLedgerInvariant();
    const [{ awards, converted }] = await db(t).query(
      `SELECT (SELECT sum(points) FROM user_points p JOIN users u ON u.id = p.user_id WHERE u.external_user_id = 'hot')::int AS awards,
              (SELECT -sum(x.points) FROM wallet_transactions x JOIN wallets w ON w.id = x.wallet_id JOIN users u ON u.id = w.user_id
               WHERE u.external_user_id = 'hot' AND x.transaction_type = 'ConvertPoints')::int AS converted`,
    );
    const wallet = (await call(t, c.a, 'GET', '/users/hot/wallet')).body.wallet;
    expect(wallet.pointsBalance).toBe(awards - converted);
    expect(converted).toBe(5 * answers.filter((answer, index) => index % 2 === 1 && answer.status === 201).length);
  });

  it('keeps wallets (and their ledger) when the game is deleted', async () => {
    const game = await createGame(t, c.a);
    const task = await createTask(t, c.a, game.gameId);
    await award(t, c.a, game.gameId, task.externalTaskId, { externalUserId: 'survivor' });
    expect((await call(t, c.a, 'DELETE', `/games/${game.gameId}`)).status).toBe(200);
    const wallet = await call(t, c.a, 'GET', '/users/survivor/wallet');
    expect(wallet.body.wallet.pointsBalance).toBe(1);
    expect(wallet.body.walletTransactions).toHaveLength(1);
    await expectLedgerInvariant();
  });

  it('backs the rules with database constraints', async () => {
    const [wallet] = await db(t).query(`SELECT id FROM wallets LIMIT 1`);
    await expect(db(t).query(`UPDATE wallets SET points_balance = -1 WHERE id = $1`, [wallet.id])).rejects.toThrow(/wallets_points_balance_check/);
    await expect(db(t).query(`UPDATE wallets SET coins_balance = -1 WHERE id = $1`, [wallet.id])).rejects.toThrow(/wallets_coins_balance_check/);
    const [awardRow] = await db(t).query(`SELECT * FROM user_points WHERE idempotency_key IS NULL LIMIT 1`);
    await db(t).query(`UPDATE user_points SET idempotency_key = 'dup' WHERE id = $1`, [awardRow.id]);
    await expect(
      db(t).query(
        `INSERT INTO user_points (user_id, task_id, game_id, points, case_name, idempotency_key, request_hash) VALUES ($1, $2, $3, 1, 'x', 'dup', 'h')`,
        [awardRow.user_id, awardRow.task_id, awardRow.game_id],
      ),
    ).rejects.toThrow(/user_points_idempotency_key/);
  });
});
