import { Check, Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { ApiKey } from '../api-keys/api-key.entity.js';
import { Game } from '../games/game.entity.js';

export type TaskStatus = 'open' | 'closed';

/** A task of a game; `strategy_id` null means the game's strategy. Soft-deleted. */
@Entity({ name: 'tasks' })
@Index('tasks_game_id_external_task_id_key', ['gameId', 'externalTaskId'], { unique: true, where: '"deleted_at" IS NULL' })
@Index('tasks_game_id_created_at_idx', ['gameId', 'createdAt'])
@Check('tasks_status_check', `"status" IN ('open', 'closed')`)
export class Task {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'tasks_pkey' })
  id: string;

  @Column({ name: 'game_id', type: 'uuid' })
  gameId: string;

  @ManyToOne(() => Game)
  @JoinColumn({ name: 'game_id', foreignKeyConstraintName: 'tasks_game_id_fkey' })
  game?: Game;

  @Column({ name: 'external_task_id', type: 'text' })
  externalTaskId: string;

  @Column({ type: 'text', default: 'open' })
  status: TaskStatus;

  @Column({ name: 'strategy_id', type: 'text', nullable: true })
  strategyId: string | null;

  @Column({ name: 'api_key_used', type: 'uuid', nullable: true })
  apiKeyUsed: string | null;

  @ManyToOne(() => ApiKey)
  @JoinColumn({ name: 'api_key_used', foreignKeyConstraintName: 'tasks_api_key_used_fkey' })
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
