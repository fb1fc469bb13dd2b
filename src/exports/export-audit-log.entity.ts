import { Check, Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type ExportStatus = 'started' | 'completed' | 'failed';

/** One data export: who asked for what, and how it ended (a row per request, written before the first byte). */
@Entity({ name: 'export_audit_logs' })
@Index('export_audit_logs_created_at_idx', ['createdAt'])
@Check('export_audit_logs_status_check', `"status" IN ('started', 'completed', 'failed')`)
@Check('export_audit_logs_format_check', `"format" IN ('csv', 'json', 'xlsx')`)
export class ExportAuditLog {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'export_audit_logs_pkey' })
  id: string;

  @Column({ type: 'text' })
  dataset: string;

  @Column({ type: 'text' })
  format: string;

  @Column({ type: 'jsonb', default: {} })
  filters: Record<string, any>;

  @Column({ name: 'row_count', type: 'integer', default: 0 })
  rowCount: number;

  @Column({ type: 'text', default: 'started' })
  status: ExportStatus;

  /** Why a failed export stopped (a fixed phrase, never a driver message). */
  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** The admin's token subject. */
  @Column({ name: 'requested_by', type: 'text' })
  requestedBy: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt: Date | null;
}
