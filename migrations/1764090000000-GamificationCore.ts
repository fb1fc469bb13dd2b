import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Games, tasks, end users, wallets and their ledger, awards with their running aggregates, and user actions
 * (API.md §2, §4–§7). Every tenant row carries `api_key_used` and/or `oauth_user_id`; games and users carry their
 * owner (`key:<apiKeyId>` or `sub:<subject>`), and unique keys include it.
 */
export class GamificationCore1764090000000 implements MigrationInterface {
  name = 'GamificationCore1764090000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    const statements = [
      `CREATE TABLE "games" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "external_game_id" text NOT NULL,
        "platform" text NOT NULL,
        "strategy_id" text NOT NULL,
        "owner" text NOT NULL,
        "api_key_used" uuid,
        "oauth_user_id" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "deleted_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "games_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "games_api_key_used_fkey" FOREIGN KEY ("api_key_used") REFERENCES "api_keys"("id") ON DELETE NO ACTION ON UPDATE NO ACTION
      )`,
      `CREATE UNIQUE INDEX "games_owner_external_game_id_key" ON "games" ("owner", "external_game_id") WHERE "deleted_at" IS NULL`,
      `CREATE INDEX "games_owner_created_at_idx" ON "games" ("owner", "created_at")`,

      `CREATE TABLE "game_params" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "game_id" uuid NOT NULL,
        "key" text NOT NULL,
        "value" jsonb NOT NULL,
        "api_key_used" uuid,
        "oauth_user_id" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "game_params_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "game_params_game_id_fkey" FOREIGN KEY ("game_id") REFERENCES "games"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
        CONSTRAINT "game_params_api_key_used_fkey" FOREIGN KEY ("api_key_used") REFERENCES "api_keys"("id") ON DELETE NO ACTION ON UPDATE NO ACTION
      )`,
      `CREATE UNIQUE INDEX "game_params_game_id_key_key" ON "game_params" ("game_id", "key")`,

      `CREATE TABLE "tasks" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "game_id" uuid NOT NULL,
        "external_task_id" text NOT NULL,
        "status" text NOT NULL DEFAULT 'open',
        "strategy_id" text,
        "api_key_used" uuid,
        "oauth_user_id" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "deleted_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "tasks_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "tasks_status_check" CHECK ("status" IN ('open', 'closed')),
        CONSTRAINT "tasks_game_id_fkey" FOREIGN KEY ("game_id") REFERENCES "games"("id") ON DELETE NO ACTION ON UPDATE NO ACTION,
        CONSTRAINT "tasks_api_key_used_fkey" FOREIGN KEY ("api_key_used") REFERENCES "api_keys"("id") ON DELETE NO ACTION ON UPDATE NO ACTION
      )`,
      `CREATE UNIQUE INDEX "tasks_game_id_external_task_id_key" ON "tasks" ("game_id", "external_task_id") WHERE "deleted_at" IS NULL`,
      `CREATE INDEX "tasks_game_id_created_at_idx" ON "tasks" ("game_id", "created_at")`,

      `CREATE TABLE "task_params" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "task_id" uuid NOT NULL,
        "key" text NOT NULL,
        "value" jsonb NOT NULL,
        "api_key_used" uuid,
        "oauth_user_id" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "task_params_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "task_params_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE CASCADE ON UPDATE NO ACTION,
        CONSTRAINT "task_params_api_key_used_fkey" FOREIGN KEY ("api_key_used") REFERENCES "api_keys"("id") ON DELETE NO ACTION ON UPDATE NO ACTION
      )`,
      `CREATE UNIQUE INDEX "task_params_task_id_key_key" ON "task_params" ("task_id", "key")`,

      `CREATE TABLE "users" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "owner" text NOT NULL,
        "external_user_id" text NOT NULL,
        "api_key_used" uuid,
        "oauth_user_id" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "users_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "users_api_key_used_fkey" FOREIGN KEY ("api_key_used") REFERENCES "api_keys"("id") ON DELETE NO ACTION ON UPDATE NO ACTION
      )`,
      `CREATE UNIQUE INDEX "users_owner_external_user_id_key" ON "users" ("owner", "external_user_id")`,

      `CREATE TABLE "wallets" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "points_balance" bigint NOT NULL DEFAULT '0',
        "coins_balance" numeric(20,6) NOT NULL DEFAULT '0',
        "conversion_rate" numeric NOT NULL,
        "api_key_used" uuid,
        "oauth_user_id" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "wallets_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "wallets_points_balance_check" CHECK ("points_balance" >= 0),
        CONSTRAINT "wallets_coins_balance_check" CHECK ("coins_balance" >= 0),
        CONSTRAINT "wallets_conversion_rate_check" CHECK ("conversion_rate" > 0),
        CONSTRAINT "wallets_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE NO ACTION ON UPDATE NO ACTION,
        CONSTRAINT "wallets_api_key_used_fkey" FOREIGN KEY ("api_key_used") REFERENCES "api_keys"("id") ON DELETE NO ACTION ON UPDATE NO ACTION
      )`,
      `CREATE UNIQUE INDEX "wallets_user_id_key" ON "wallets" ("user_id")`,

      `CREATE TABLE "wallet_transactions" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "wallet_id" uuid NOT NULL,
        "transaction_type" text NOT NULL,
        "points" bigint NOT NULL,
        "coins" numeric(20,6) NOT NULL DEFAULT '0',
        "applied_conversion_rate" numeric,
        "api_key_used" uuid,
        "oauth_user_id" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "wallet_transactions_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "wallet_transactions_transaction_type_check" CHECK ("transaction_type" IN ('AssignPoints', 'ConvertPoints')),
        CONSTRAINT "wallet_transactions_wallet_id_fkey" FOREIGN KEY ("wallet_id") REFERENCES "wallets"("id") ON DELETE NO ACTION ON UPDATE NO ACTION,
        CONSTRAINT "wallet_transactions_api_key_used_fkey" FOREIGN KEY ("api_key_used") REFERENCES "api_keys"("id") ON DELETE NO ACTION ON UPDATE NO ACTION
      )`,
      `CREATE INDEX "wallet_transactions_wallet_id_created_at_idx" ON "wallet_transactions" ("wallet_id", "created_at" DESC)`,

      `CREATE TABLE "user_points" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "task_id" uuid NOT NULL,
        "game_id" uuid NOT NULL,
        "points" integer NOT NULL,
        "case_name" text NOT NULL,
        "data" jsonb NOT NULL DEFAULT '{}',
        "idempotency_key" text,
        "request_hash" text NOT NULL,
        "created_user" boolean NOT NULL DEFAULT false,
        "api_key_used" uuid,
        "oauth_user_id" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "user_points_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "user_points_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE NO ACTION ON UPDATE NO ACTION,
        CONSTRAINT "user_points_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE NO ACTION ON UPDATE NO ACTION,
        CONSTRAINT "user_points_game_id_fkey" FOREIGN KEY ("game_id") REFERENCES "games"("id") ON DELETE NO ACTION ON UPDATE NO ACTION,
        CONSTRAINT "user_points_api_key_used_fkey" FOREIGN KEY ("api_key_used") REFERENCES "api_keys"("id") ON DELETE NO ACTION ON UPDATE NO ACTION
      )`,
      // The idempotency scope: one award per (task, user, key); awards without a key (NULL) never collide.
      `CREATE UNIQUE INDEX "user_points_idempotency_key" ON "user_points" ("task_id", "user_id", "idempotency_key")`,
      `CREATE INDEX "user_points_task_id_user_id_created_at_idx" ON "user_points" ("task_id", "user_id", "created_at")`,

      `CREATE TABLE "task_award_stats" (
        "task_id" uuid NOT NULL,
        "award_count" bigint NOT NULL DEFAULT '0',
        "first_at" TIMESTAMP WITH TIME ZONE,
        "last_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "task_award_stats_pkey" PRIMARY KEY ("task_id"),
        CONSTRAINT "task_award_stats_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE NO ACTION ON UPDATE NO ACTION
      )`,

      `CREATE TABLE "task_user_award_stats" (
        "task_id" uuid NOT NULL,
        "user_id" uuid NOT NULL,
        "game_id" uuid NOT NULL,
        "award_count" bigint NOT NULL DEFAULT '0',
        "points_total" bigint NOT NULL DEFAULT '0',
        "first_at" TIMESTAMP WITH TIME ZONE,
        "last_at" TIMESTAMP WITH TIME ZONE,
        "previous_at" TIMESTAMP WITH TIME ZONE,
        CONSTRAINT "task_user_award_stats_pkey" PRIMARY KEY ("task_id", "user_id"),
        CONSTRAINT "task_user_award_stats_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE NO ACTION ON UPDATE NO ACTION,
        CONSTRAINT "task_user_award_stats_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE NO ACTION ON UPDATE NO ACTION,
        CONSTRAINT "task_user_award_stats_game_id_fkey" FOREIGN KEY ("game_id") REFERENCES "games"("id") ON DELETE NO ACTION ON UPDATE NO ACTION
      )`,
      `CREATE INDEX "task_user_award_stats_game_id_user_id_idx" ON "task_user_award_stats" ("game_id", "user_id")`,
      `CREATE INDEX "task_user_award_stats_user_id_idx" ON "task_user_award_stats" ("user_id")`,

      `CREATE TABLE "user_actions" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "user_id" uuid NOT NULL,
        "game_id" uuid,
        "task_id" uuid,
        "type_action" text NOT NULL,
        "data" jsonb NOT NULL DEFAULT '{}',
        "description" text,
        "api_key_used" uuid,
        "oauth_user_id" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
        CONSTRAINT "user_actions_pkey" PRIMARY KEY ("id"),
        CONSTRAINT "user_actions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE NO ACTION ON UPDATE NO ACTION,
        CONSTRAINT "user_actions_game_id_fkey" FOREIGN KEY ("game_id") REFERENCES "games"("id") ON DELETE NO ACTION ON UPDATE NO ACTION,
        CONSTRAINT "user_actions_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE NO ACTION ON UPDATE NO ACTION,
        CONSTRAINT "user_actions_api_key_used_fkey" FOREIGN KEY ("api_key_used") REFERENCES "api_keys"("id") ON DELETE NO ACTION ON UPDATE NO ACTION
      )`,
      `CREATE INDEX "user_actions_user_id_created_at_idx" ON "user_actions" ("user_id", "created_at")`,
    ];
    for (const statement of statements) await queryRunner.query(statement);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of [
      'user_actions',
      'task_user_award_stats',
      'task_award_stats',
      'user_points',
      'wallet_transactions',
      'wallets',
      'users',
      'task_params',
      'tasks',
      'game_params',
      'games',
    ]) {
      await queryRunner.query(`DROP TABLE "${table}"`);
    }
  }
}
