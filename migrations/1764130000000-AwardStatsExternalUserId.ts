import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The points details routes page a game's users by `externalUserId`. With the external id on the user's running
 * aggregate (it never changes) and an index on (game, external id), a page is read in index order and costs the
 * page, not a sort of every user of the game.
 */
export class AwardStatsExternalUserId1764130000000 implements MigrationInterface {
  name = 'AwardStatsExternalUserId1764130000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "task_user_award_stats" ADD "external_user_id" text`);
    await queryRunner.query(
      `UPDATE "task_user_award_stats" s SET "external_user_id" = u."external_user_id" FROM "users" u WHERE u."id" = s."user_id"`,
    );
    await queryRunner.query(`ALTER TABLE "task_user_award_stats" ALTER COLUMN "external_user_id" SET NOT NULL`);
    await queryRunner.query(
      `CREATE INDEX "task_user_award_stats_game_id_external_user_id_idx" ON "task_user_award_stats" ("game_id", "external_user_id", "user_id")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."task_user_award_stats_game_id_external_user_id_idx"`);
    await queryRunner.query(`ALTER TABLE "task_user_award_stats" DROP COLUMN "external_user_id"`);
  }
}
