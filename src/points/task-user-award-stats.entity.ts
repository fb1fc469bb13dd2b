import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Game } from '../games/game.entity.js';
import { Task } from '../tasks/task.entity.js';
import { EndUser } from '../users/end-user.entity.js';

/** Running aggregate of one user's awards on one task: totals for reads, times for strategies. */
@Entity({ name: 'task_user_award_stats' })
@Index('task_user_award_stats_game_id_user_id_idx', ['gameId', 'userId'])
@Index('task_user_award_stats_user_id_idx', ['userId'])
@Index('task_user_award_stats_game_id_external_user_id_idx', ['gameId', 'externalUserId', 'userId'])
export class TaskUserAwardStats {
  @PrimaryColumn({ name: 'task_id', type: 'uuid', primaryKeyConstraintName: 'task_user_award_stats_pkey' })
  taskId: string;

  @PrimaryColumn({ name: 'user_id', type: 'uuid', primaryKeyConstraintName: 'task_user_award_stats_pkey' })
  userId: string;

  @ManyToOne(() => Task)
  @JoinColumn({ name: 'task_id', foreignKeyConstraintName: 'task_user_award_stats_task_id_fkey' })
  task?: Task;

  @ManyToOne(() => EndUser)
  @JoinColumn({ name: 'user_id', foreignKeyConstraintName: 'task_user_award_stats_user_id_fkey' })
  user?: EndUser;

  /** The user's external id (never changes): details pages read users in this order from the index. */
  @Column({ name: 'external_user_id', type: 'text' })
  externalUserId: string;

  @Column({ name: 'game_id', type: 'uuid' })
  gameId: string;

  @ManyToOne(() => Game)
  @JoinColumn({ name: 'game_id', foreignKeyConstraintName: 'task_user_award_stats_game_id_fkey' })
  game?: Game;

  @Column({ name: 'award_count', type: 'bigint', default: 0 })
  awardCount: string;

  @Column({ name: 'points_total', type: 'bigint', default: 0 })
  pointsTotal: string;

  @Column({ name: 'first_at', type: 'timestamptz', nullable: true })
  firstAt: Date | null;

  @Column({ name: 'last_at', type: 'timestamptz', nullable: true })
  lastAt: Date | null;

  @Column({ name: 'previous_at', type: 'timestamptz', nullable: true })
  previousAt: Date | null;
}
