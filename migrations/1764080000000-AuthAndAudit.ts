import { MigrationInterface, QueryRunner } from "typeorm";

export class AuthAndAudit1764080000000 implements MigrationInterface {
    name = 'AuthAndAudit1764080000000'

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`CREATE TABLE "api_keys" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "prefix" text NOT NULL, "secret_hash" text NOT NULL, "previous_secret_hash" text, "previous_valid_until" TIMESTAMP WITH TIME ZONE, "client" text NOT NULL, "description" text NOT NULL, "scopes" text array NOT NULL, "active" boolean NOT NULL DEFAULT true, "expires_at" TIMESTAMP WITH TIME ZONE, "created_by" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "revoked_at" TIMESTAMP WITH TIME ZONE, "last_used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_5c8a79801b44bd27b79228e1dad" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "api_keys_prefix_key" ON "api_keys"  ("prefix") `);
        await queryRunner.query(`CREATE TABLE "audit_logs" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "level" text NOT NULL, "module" text NOT NULL, "message" text NOT NULL, "details" jsonb NOT NULL DEFAULT '{}', "api_key_used" uuid, "oauth_user_id" text, "correlation_id" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_1bb179d048bbc581caa3b013439" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE INDEX "audit_logs_module_created_at_idx" ON "audit_logs"  ("module", "created_at") `);
        await queryRunner.query(`CREATE INDEX "audit_logs_created_at_idx" ON "audit_logs"  ("created_at") `);
        await queryRunner.query(`CREATE TABLE "oauth_users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "subject" text NOT NULL, "preferred_username" text, "email" text, "issuer" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_ae01078f41598cc3389ec86e493" PRIMARY KEY ("id"))`);
        await queryRunner.query(`CREATE UNIQUE INDEX "oauth_users_subject_key" ON "oauth_users"  ("subject") `);
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`DROP INDEX "public"."oauth_users_subject_key"`);
        await queryRunner.query(`DROP TABLE "oauth_users"`);
        await queryRunner.query(`DROP INDEX "public"."audit_logs_created_at_idx"`);
        await queryRunner.query(`DROP INDEX "public"."audit_logs_module_created_at_idx"`);
        await queryRunner.query(`DROP TABLE "audit_logs"`);
        await queryRunner.query(`DROP INDEX "public"."api_keys_prefix_key"`);
        await queryRunner.query(`DROP TABLE "api_keys"`);
    }

}
