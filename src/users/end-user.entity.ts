import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { ApiKey } from '../api-keys/api-key.entity.js';

/** An integrator's end user; `external_user_id` is unique per owner (`key:<apiKeyId>` or `sub:<subject>`). */
@Entity({ name: 'users' })
@Index('users_owner_external_user_id_key', ['owner', 'externalUserId'], { unique: true })
@Index('users_created_at_idx', ['createdAt'])
export class EndUser {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'users_pkey' })
  id: string;

  @Column({ type: 'text' })
  owner: string;

  @Column({ name: 'external_user_id', type: 'text' })
  externalUserId: string;

  @Column({ name: 'api_key_used', type: 'uuid', nullable: true })
  apiKeyUsed: string | null;

  @ManyToOne(() => ApiKey)
  @JoinColumn({ name: 'api_key_used', foreignKeyConstraintName: 'users_api_key_used_fkey' })
  apiKey?: ApiKey;

  @Column({ name: 'oauth_user_id', type: 'text', nullable: true })
  oauthUserId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
