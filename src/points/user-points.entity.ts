import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ApiKey } from '../api-keys/api-key.entity.js';
import { Game } from '../games/game.entity.js';
import { Task } from '../tasks/task.entity.js';
import { EndUser } from '../users/end-user.entity.js';

/**
 * One award of points. `(task_id, user_id, idempotency_key)` is the idempotency scope (the task fixes the game);
 * `request_hash` tells a replay from a different request under the same key.
 */
@Entity({ name: 'user_points' })
@Index('user_points_idempotency_key', ['taskId', 'userId', 'idempotencyKey'], { unique: true })
@Index('user_points_task_id_user_id_created_at_idx', ['taskId', 'userId', 'createdAt'])
@Index('user_points_created_at_idx', ['createdAt'])
export class UserPoints {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'user_points_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => EndUser)
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'user_points_user_id_fkey' })
  user?: EndUser;

  @Column({ name: 'task_id', type: 'uuid' })
  taskId: string;

  // No foreign keys to the game, the task or the key: every award would lock those shared rows (see the migration
  // HotParentForeignKeys1764120000000).
  @ManyToOne(() => Task, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'task_id' })
  task?: Task;

  @Column({ name: 'game_id', type: 'uuid' })
  gameId: string;

  @ManyToOne(() => Game, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'game_id' })
  game?: Game;

  @Column({ type: 'integer' })
  points: number;

  @Column({ name: 'case_name', type: 'text' })
  caseName: string;

  @Column({ type: 'jsonb', default: {} })
  data: Record<string, any>;

  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey: string | null;

  @Column({ name: 'request_hash', type: 'text' })
  requestHash: string;

  /** Whether this award created the user (replayed as `isACreatedUser`). */
  @Column({ name: 'created_user', type: 'boolean', default: false })
  createdUser: boolean;

  @Column({ name: 'api_key_used', type: 'uuid', nullable: true })
  apiKeyUsed: string | null;

  @ManyToOne(() => ApiKey, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'api_key_used' })
  apiKey?: ApiKey;

  @Column({ name: 'oauth_user_id', type: 'text', nullable: true })
  oauthUserId: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
