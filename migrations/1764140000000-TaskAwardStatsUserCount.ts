import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The number of users with at least one award on a task, kept on the task's running aggregate by the award's write
 * (it grows by one when a user's first award on the task lands, and never shrinks: tasks are only soft-deleted and
 * awards are never removed). A details page compares the live tasks' counts with those it last counted under and
 * counts the game's distinct users again only when one changed (PointsQueryService), instead of on every page.
 */
export class TaskAwardStatsUserCount1764140000000 implements MigrationInterface {
  name = 'TaskAwardStatsUserCount1764140000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "task_award_stats" ADD "user_count" bigint NOT NULL DEFAULT '0'`);
    await queryRunner.query(
      `UPDATE "task_award_stats" ts SET "user_count" = c.users
       FROM (SELECT "task_id", count(*) AS users FROM "task_user_award_stats" WHERE "award_count" > 0 GROUP BY "task_id") c
       WHERE c."task_id" = ts."task_id"`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "task_award_stats" DROP COLUMN "user_count"`);
  }
}
