import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthContext } from '../auth/auth-context.js';
import { Clock } from '../common/clock.js';
import { unprocessable } from '../common/domain-error.js';
import { stampsOf } from '../games/tenancy.js';
import { UserDirectory } from '../users/user-directory.service.js';
import type { ConversionDto, ConvertPreviewDto, WalletBalanceDto, WalletDto } from './dto/wallet.dto.js';

const RECENT_TRANSACTIONS = 100;

interface BalanceRow {
  pointsBalance: string;
  coinsBalance: string;
  conversionRate: string;
}

const toBalance = (row: BalanceRow): WalletBalanceDto => ({
  pointsBalance: Number(row.pointsBalance),
  coinsBalance: Number(row.coinsBalance),
  conversionRate: Number(row.conversionRate),
});

/**
 * Wallets (API.md §7). Coins are computed by PostgreSQL in `numeric` (points / rate rounded to 6 decimals), never
 * in floating point; every change appends a ledger row in the same statement, so balance = sum of the ledger.
 */
@Injectable()
export class WalletService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly users: UserDirectory,
    private readonly clock: Clock,
  ) {}

  async get(auth: AuthContext, externalUserId: string, tenant?: string): Promise<WalletDto> {
    const user = await this.users.require(await this.users.namespaceFor(auth, tenant), externalUserId);
    const [wallet] = (await this.dataSource.query(
      `SELECT id, points_balance AS "pointsBalance", coins_balance AS "coinsBalance", conversion_rate AS "conversionRate" FROM wallets WHERE user_id = $1`,
      [user.id],
    )) as Array<BalanceRow & { id: string }>;
    const transactions = (await this.dataSource.query(
      `SELECT id, transaction_type AS "transactionType", points, coins, applied_conversion_rate AS "appliedConversionRate", created_at AS "createdAt"
       FROM wallet_transactions WHERE wallet_id = $1 ORDER BY created_at DESC, id DESC LIMIT ${RECENT_TRANSACTIONS}`,
      [wallet.id],
    )) as Array<{ id: string; transactionType: 'AssignPoints' | 'ConvertPoints'; points: string; coins: string; appliedConversionRate: string | null; createdAt: Date }>;
    return {
      externalUserId: user.externalUserId,
      wallet: toBalance(wallet),
      walletTransactions: transactions.map((row) => ({
        id: row.id,
        transactionType: row.transactionType,
        points: Number(row.points),
        coins: Number(row.coins),
        appliedConversionRate: row.appliedConversionRate === null ? null : Number(row.appliedConversionRate),
        created_at: row.createdAt,
      })),
    };
  }

  async preview(auth: AuthContext, externalUserId: string, points: number, tenant?: string): Promise<ConvertPreviewDto> {
    const user = await this.users.require(await this.users.namespaceFor(auth, tenant), externalUserId);
    const [row] = (await this.dataSource.query(
      `SELECT conversion_rate AS "conversionRate", round($2::bigint::numeric / conversion_rate, 6) AS "convertedAmount",
              points_balance >= $2::bigint AS "haveEnoughPoints"
       FROM wallets WHERE user_id = $1`,
      [user.id, points],
    )) as Array<{ conversionRate: string; convertedAmount: string; haveEnoughPoints: boolean }>;
    return {
      points,
      conversionRate: Number(row.conversionRate),
      convertedAmount: Number(row.convertedAmount),
      convertedCurrency: 'coins',
      haveEnoughPoints: row.haveEnoughPoints,
    };
  }

  /** One transaction: lock the wallet row, refuse an overdraft (422), move the points, append the ledger row. */
  async convert(auth: AuthContext, externalUserId: string, points: number, tenant?: string): Promise<ConversionDto> {
    const user = await this.users.require(await this.users.namespaceFor(auth, tenant), externalUserId);
    const stamps = stampsOf(auth);
    const now = this.clock.now();
    return this.dataSource.transaction(async (manager) => {
      const [wallet] = (await manager.query(`SELECT id, points_balance AS "pointsBalance" FROM wallets WHERE user_id = $1 FOR UPDATE`, [user.id])) as Array<{
        id: string;
        pointsBalance: string;
      }>;
      if (BigInt(wallet.pointsBalance) < BigInt(points)) throw unprocessable('Not enough points');
      const [row] = (await manager.query(
        `WITH converted AS (
           UPDATE wallets
           SET points_balance = points_balance - $2::bigint,
               coins_balance = coins_balance + round($2::bigint::numeric / conversion_rate, 6),
               updated_at = now()
           WHERE id = $1
           RETURNING id, points_balance, coins_balance, conversion_rate, round($2::bigint::numeric / conversion_rate, 6) AS coins
         ), ledger AS (
           INSERT INTO wallet_transactions (wallet_id, transaction_type, points, coins, applied_conversion_rate, api_key_used, oauth_user_id, created_at)
           SELECT id, 'ConvertPoints', -$2::bigint, coins, conversion_rate, $3::uuid, $4, $5::timestamptz FROM converted
           RETURNING id
         )
         SELECT ledger.id AS "transactionId", converted.points_balance AS "pointsBalance", converted.coins_balance AS "coinsBalance",
                converted.conversion_rate AS "conversionRate", converted.coins AS "convertedAmount"
         FROM converted, ledger`,
        [wallet.id, points, stamps.apiKeyUsed, stamps.oauthUserId, now],
      )) as Array<BalanceRow & { transactionId: string; convertedAmount: string }>;
      return {
        transactionId: row.transactionId,
        points,
        conversionRate: Number(row.conversionRate),
        convertedAmount: Number(row.convertedAmount),
        convertedCurrency: 'coins' as const,
        wallet: toBalance(row),
      };
    });
  }
}
