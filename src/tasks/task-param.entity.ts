import { Column, CreateDateColumn, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ApiKey } from '../api-keys/api-key.entity.js';
import { Task } from './task.entity.js';

/** A task param: overrides the strategy variable it names for this task (after the game params). */
@Entity({ name: 'task_params' })
@Index('task_params_task_id_key_key', ['taskId', 'key'], { unique: true })
export class TaskParam {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'task_params_pkey' })
  id: string;

  @Column({ name: 'task_id', type: 'uuid' })
  taskId: string;

  @ManyToOne(() => Task, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'task_id', foreignKeyConstraintName: 'task_params_task_id_fkey' })
  task?: Task;

  @Column({ type: 'text' })
  key: string;

  @Column({ type: 'jsonb' })
  value: any;

  @Column({ name: 'api_key_used', type: 'uuid', nullable: true })
  apiKeyUsed: string | null;

  @ManyToOne(() => ApiKey)
  @JoinColumn({ name: 'api_key_used', foreignKeyConstraintName: 'task_params_api_key_used_fkey' })
  apiKey?: ApiKey;

  @Column({ name: 'oauth_user_id', type: 'text', nullable: true })
  oauthUserId: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
