import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { ApiKey } from '../api-keys/api-key.entity.js';
import { Game } from '../games/game.entity.js';
import { Task } from '../tasks/task.entity.js';
import { EndUser } from '../users/end-user.entity.js';

/** Something an end user did, bound to a task (and its game) or standalone. */
@Entity({ name: 'user_actions' })
@Index('user_actions_user_id_created_at_idx', ['userId', 'createdAt'])
@Index('user_actions_created_at_idx', ['createdAt'])
export class UserAction {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'user_actions_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  userId: string;

  @ManyToOne(() => EndUser)
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'user_actions_user_id_fkey' })
  user?: EndUser;

  @Column({ name: 'game_id', type: 'uuid', nullable: true })
  gameId: string | null;

  @ManyToOne(() => Game)
  @JoinColumn({ name: 'game_id', foreignKeyConstraintName: 'user_actions_game_id_fkey' })
  game?: Game;

  @Column({ name: 'task_id', type: 'uuid', nullable: true })
  taskId: string | null;

  @ManyToOne(() => Task)
  @JoinColumn({ name: 'task_id', foreignKeyConstraintName: 'user_actions_task_id_fkey' })
  task?: Task;

  @Column({ name: 'type_action', type: 'text' })
  typeAction: string;

  @Column({ type: 'jsonb', default: {} })
  data: Record<string, any>;

  @Column({ type: 'text', nullable: true })
  description: string | null;

  @Column({ name: 'api_key_used', type: 'uuid', nullable: true })
  apiKeyUsed: string | null;

  @ManyToOne(() => ApiKey)
  @JoinColumn({ name: 'api_key_used', foreignKeyConstraintName: 'user_actions_api_key_used_fkey' })
  apiKey?: ApiKey;

  @Column({ name: 'oauth_user_id', type: 'text', nullable: true })
  oauthUserId: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;
}
