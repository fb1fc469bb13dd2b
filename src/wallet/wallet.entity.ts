import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { ApiKey } from '../api-keys/api-key.entity.js';
import { EndUser } from '../users/end-user.entity.js';

/** One wallet per user. Its balances always equal the sums of its ledger (`wallet_transactions`). */
@Entity({ name: 'wallets' })
@Index('wallets_user_id_key', ['userId'], { unique: true })
@Check('wallets_points_balance_check', '"points_balance" >= 0')
@Check('wallets_coins_balance_check', '"coins_balance" >= 0')
@Check('wallets_conversion_rate_check', '"conversion_rate" > 0')
export class Wallet {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'wallets_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => EndUser)
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'wallets_user_id_fkey' })
  user?: EndUser;

  @Column({ name: 'points_balance', type: 'bigint', default: 0 })
  pointsBalance: string;

  @Column({ name: 'coins_balance', type: 'numeric', precision: 20, scale: 6, default: 0 })
  coinsBalance: string;

  @Column({ name: 'conversion_rate', type: 'numeric' })
  conversionRate: string;

  @Column({ name: 'api_key_used', type: 'uuid', nullable: true })
  apiKeyUsed: string | null;

  @ManyToOne(() => ApiKey)
  @JoinColumn({ name: 'api_key_used', foreignKeyConstraintName: 'wallets_api_key_used_fkey' })
  apiKey?: ApiKey;

  @Column({ name: 'oauth_user_id', type: 'text', nullable: true })
  oauthUserId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
