import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Date-range reads across tenants (admin dashboard, exports) need `created_at` indexes on the growing tables. */
export class CreatedAtIndexes1764110000000 implements MigrationInterface {
  name = 'CreatedAtIndexes1764110000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "users_created_at_idx" ON "users" ("created_at")`);
    await queryRunner.query(`CREATE INDEX "user_points_created_at_idx" ON "user_points" ("created_at")`);
    await queryRunner.query(`CREATE INDEX "user_actions_created_at_idx" ON "user_actions" ("created_at")`);
    await queryRunner.query(`CREATE INDEX "wallet_transactions_created_at_idx" ON "wallet_transactions" ("created_at")`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."wallet_transactions_created_at_idx"`);
    await queryRunner.query(`DROP INDEX "public"."user_actions_created_at_idx"`);
    await queryRunner.query(`DROP INDEX "public"."user_points_created_at_idx"`);
    await queryRunner.query(`DROP INDEX "public"."users_created_at_idx"`);
  }
}
