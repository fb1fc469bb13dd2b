import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Task } from '../tasks/task.entity.js';

/** Running aggregate of a task's awards (all users): what strategies read instead of scanning history. */
@Entity({ name: 'task_award_stats' })
export class TaskAwardStats {
  @PrimaryColumn({ name: 'task_id', type: 'uuid', primaryKeyConstraintName: 'task_award_stats_pkey' })
  taskId: string;

  @ManyToOne(() => Task)
  @JoinColumn({ name: 'task_id', foreignKeyConstraintName: 'task_award_stats_task_id_fkey' })
  task?: Task;

  @Column({ name: 'award_count', type: 'bigint', default: 0 })
  awardCount: string;

  /** Users with at least one award on the task (each counted once, when their first award lands). */
  @Column({ name: 'user_count', type: 'bigint', default: 0 })
  userCount: string;

  @Column({ name: 'first_at', type: 'timestamptz', nullable: true })
  firstAt: Date | null;

  @Column({ name: 'last_at', type: 'timestamptz', nullable: true })
  lastAt: Date | null;
}
