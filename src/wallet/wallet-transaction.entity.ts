import { Check, Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ApiKey } from '../api-keys/api-key.entity.js';
import { Wallet } from './wallet.entity.js';

export type WalletTransactionType = 'AssignPoints' | 'ConvertPoints';

/** The wallet ledger: append-only; `points` is signed (awards add, conversions subtract). */
@Entity({ name: 'wallet_transactions' })
// (wallet_id, created_at DESC): TypeORM cannot describe a descending index, so the migration owns it.
@Index('wallet_transactions_wallet_id_created_at_idx', { synchronize: false })
@Index('wallet_transactions_created_at_idx', ['createdAt'])
@Check('wallet_transactions_transaction_type_check', `"transaction_type" IN ('AssignPoints', 'ConvertPoints')`)
export class WalletTransaction {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'wallet_transactions_pkey' })
  id: string;

  @Column({ name: 'wallet_id', type: 'uuid' })
  walletId: string;

  @ManyToOne(() => Wallet)
  @JoinColumn({ name: 'wallet_id', foreignKeyConstraintName: 'wallet_transactions_wallet_id_fkey' })
  wallet?: Wallet;

  @Column({ name: 'transaction_type', type: 'text' })
  transactionType: WalletTransactionType;

  @Column({ type: 'bigint' })
  points: string;

  @Column({ type: 'numeric', precision: 20, scale: 6, default: 0 })
  coins: string;

  @Column({ name: 'applied_conversion_rate', type: 'numeric', nullable: true })
  appliedConversionRate: string | null;

  @Column({ name: 'api_key_used', type: 'uuid', nullable: true })
  apiKeyUsed: string | null;

  // No foreign key to the key: every award would lock that shared row (migration HotParentForeignKeys1764120000000).
  @ManyToOne(() => ApiKey, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'api_key_used' })
  apiKey?: ApiKey;

  @Column({ name: 'oauth_user_id', type: 'text', nullable: true })
  oauthUserId: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
