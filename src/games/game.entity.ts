import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { ApiKey } from '../api-keys/api-key.entity.js';

/** A game of an integrator. `owner` is `key:<apiKeyId>` or `sub:<subject>` (API.md §2); soft-deleted. */
@Entity({ name: 'games' })
@Index('games_owner_external_game_id_key', ['owner', 'externalGameId'], { unique: true, where: '"deleted_at" IS NULL' })
@Index('games_owner_created_at_idx', ['owner', 'createdAt'])
export class Game {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'games_pkey' })
  id: string;

  @Column({ name: 'external_game_id', type: 'text' })
  externalGameId: string;

  @Column({ type: 'text' })
  platform: string;

  @Column({ name: 'strategy_id', type: 'text' })
  strategyId: string;

  @Column({ type: 'text' })
  owner: string;

  @Column({ name: 'api_key_used', type: 'uuid', nullable: true })
  apiKeyUsed: string | null;

  @ManyToOne(() => ApiKey, { createForeignKeyConstraints: true })
  @JoinColumn({ name: 'api_key_used', foreignKeyConstraintName: 'games_api_key_used_fkey' })
  apiKey?: ApiKey;

  @Column({ name: 'oauth_user_id', type: 'text', nullable: true })
  oauthUserId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
}
