import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The award path appends to `user_points` and `wallet_transactions` at high rates. Their foreign keys to the game, the
 * task and the calling API key made every award lock those three shared parent rows (`FOR KEY SHARE`), so concurrent
 * awards on one task turned each of those locks into a new MultiXact: about 15 % of PostgreSQL's time per award,
 * measured. Those parents are never deleted (games and tasks are soft-deleted, keys revoked), and the award checks
 * the game and task in the statement before its write, so these constraints guarded nothing. The keys to the user and
 * the wallet (one row per user, not shared) stay.
 */
export class HotParentForeignKeys1764120000000 implements MigrationInterface {
  name = 'HotParentForeignKeys1764120000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "user_points" DROP CONSTRAINT "user_points_game_id_fkey"`);
    await queryRunner.query(`ALTER TABLE "user_points" DROP CONSTRAINT "user_points_task_id_fkey"`);
    await queryRunner.query(`ALTER TABLE "user_points" DROP CONSTRAINT "user_points_api_key_used_fkey"`);
    await queryRunner.query(`ALTER TABLE "wallet_transactions" DROP CONSTRAINT "wallet_transactions_api_key_used_fkey"`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "wallet_transactions" ADD CONSTRAINT "wallet_transactions_api_key_used_fkey" FOREIGN KEY ("api_key_used") REFERENCES "api_keys"("id") ON DELETE NO ACTION ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "user_points" ADD CONSTRAINT "user_points_api_key_used_fkey" FOREIGN KEY ("api_key_used") REFERENCES "api_keys"("id") ON DELETE NO ACTION ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "user_points" ADD CONSTRAINT "user_points_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "tasks"("id") ON DELETE NO ACTION ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "user_points" ADD CONSTRAINT "user_points_game_id_fkey" FOREIGN KEY ("game_id") REFERENCES "games"("id") ON DELETE NO ACTION ON UPDATE NO ACTION`,
    );
  }
}
