import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { ApiKeyScope } from '../auth/auth-context.js';

/** An integrator's API key. Only SHA-256 hashes of the secret are stored; the prefix is public. */
@Entity({ name: 'api_keys' })
@Index('api_keys_prefix_key', ['prefix'], { unique: true })
export class ApiKey {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  prefix: string;

  @Column({ name: 'secret_hash', type: 'text' })
  secretHash: string;

  /** The hash of the secret a rotation replaced, valid until `previousValidUntil`. */
  @Column({ name: 'previous_secret_hash', type: 'text', nullable: true })
  previousSecretHash: string | null;

  @Column({ name: 'previous_valid_until', type: 'timestamptz', nullable: true })
  previousValidUntil: Date | null;

  @Column({ type: 'text' })
  client: string;

  @Column({ type: 'text' })
  description: string;

  @Column({ type: 'text', array: true })
  scopes: ApiKeyScope[];

  @Column({ type: 'boolean', default: true })
  active: boolean;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'created_by', type: 'text' })
  createdBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null;
}
