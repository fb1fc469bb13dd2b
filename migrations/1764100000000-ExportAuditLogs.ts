import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The record of every data export (issue 6): dataset, format, filters, row count, status and who asked. */
export class ExportAuditLogs1764100000000 implements MigrationInterface {
  name = 'ExportAuditLogs1764100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "export_audit_logs" (
      "id" uuid NOT NULL DEFAULT gen_random_uuid(),
      "dataset" text NOT NULL,
      "format" text NOT NULL,
      "filters" jsonb NOT NULL DEFAULT '{}',
      "row_count" integer NOT NULL DEFAULT '0',
      "status" text NOT NULL DEFAULT 'started',
      "error" text,
      "requested_by" text NOT NULL,
      "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
      "completed_at" TIMESTAMP WITH TIME ZONE,
      CONSTRAINT "export_audit_logs_pkey" PRIMARY KEY ("id"),
      CONSTRAINT "export_audit_logs_status_check" CHECK ("status" IN ('started', 'completed', 'failed')),
      CONSTRAINT "export_audit_logs_format_check" CHECK ("format" IN ('csv', 'json', 'xlsx'))
    )`);
    await queryRunner.query(`CREATE INDEX "export_audit_logs_created_at_idx" ON "export_audit_logs" ("created_at")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "export_audit_logs"`);
  }
}
