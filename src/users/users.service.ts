import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthContext } from '../auth/auth-context.js';
import { validationFailed } from '../common/validation.js';
import { SLUG_1_100 } from '../games/validators.js';
import type { GameTotalDto, UserGameTotalDto, UserPointsQueryResultDto } from './dto/users.dto.js';
import { UserDirectory } from './user-directory.service.js';

const MAX_QUERY_IDS = 100;

interface TotalRow {
  userId: string;
  gameId: string;
  externalGameId: string;
  externalTaskId: string;
  points: string;
  timesAwarded: string;
}

/** `/users/…` reads in the caller's namespace (an admin may name another with `?tenant=`). */
@Injectable()
export class UsersService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly directory: UserDirectory,
  ) {}

  async points(auth: AuthContext, externalUserId: string, tenant?: string): Promise<UserGameTotalDto[]> {
    const namespace = await this.directory.namespaceFor(auth, tenant);
    const user = await this.directory.require(namespace, externalUserId);
    const games = new Map<string, UserGameTotalDto>();
    for (const row of await this.totals([user.id])) {
      let game = games.get(row.gameId);
      if (!game) games.set(row.gameId, (game = { externalGameId: row.externalGameId, points: 0, timesAwarded: 0, task: [] }));
      game.points += Number(row.points);
      game.timesAwarded += Number(row.timesAwarded);
      game.task.push({ externalTaskId: row.externalTaskId, points: Number(row.points), timesAwarded: Number(row.timesAwarded) });
    }
    return [...games.values()];
  }

  async query(auth: AuthContext, body: unknown, tenant?: string): Promise<UserPointsQueryResultDto[]> {
    const ids = parseIds(body);
    const namespace = await this.directory.namespaceFor(auth, tenant);
    const users = (await this.dataSource.query(
      `SELECT id, external_user_id AS "externalUserId" FROM users WHERE owner = $1 AND external_user_id = ANY($2::text[])`,
      [namespace, ids],
    )) as Array<{ id: string; externalUserId: string }>;
    const byExternalId = new Map(users.map((user) => [user.externalUserId, user.id]));
    const totals = await this.totals(users.map((user) => user.id));
    return ids.map((externalUserId) => {
      const userId = byExternalId.get(externalUserId);
      const games = new Map<string, GameTotalDto>();
      let points = 0;
      let timesAwarded = 0;
      for (const row of totals.filter((candidate) => candidate.userId === userId)) {
        let game = games.get(row.gameId);
        if (!game) games.set(row.gameId, (game = { externalGameId: row.externalGameId, points: 0, timesAwarded: 0 }));
        game.points += Number(row.points);
        game.timesAwarded += Number(row.timesAwarded);
        points += Number(row.points);
        timesAwarded += Number(row.timesAwarded);
      }
      return { externalUserId, points, timesAwarded, games: [...games.values()], userExists: userId !== undefined };
    });
  }

  /** Per (user, live game, live task): the running totals. */
  private async totals(userIds: string[]): Promise<TotalRow[]> {
    if (userIds.length === 0) return [];
    return (await this.dataSource.query(
      `SELECT s.user_id AS "userId", g.id AS "gameId", g.external_game_id AS "externalGameId", t.external_task_id AS "externalTaskId",
              s.points_total AS points, s.award_count AS "timesAwarded"
       FROM task_user_award_stats s
       JOIN tasks t ON t.id = s.task_id AND t.deleted_at IS NULL
       JOIN games g ON g.id = s.game_id AND g.deleted_at IS NULL
       WHERE s.user_id = ANY($1::uuid[]) AND s.award_count > 0
       ORDER BY g.created_at, g.id, t.created_at, t.id`,
      [userIds],
    )) as TotalRow[];
  }
}

/** The body of `POST /users/points/query`: a JSON array of 1–100 distinct-or-not externalUserIds. */
function parseIds(body: unknown): string[] {
  if (!Array.isArray(body)) throw validationFailed([{ field: 'body', message: 'body must be an array of externalUserIds' }]);
  if (body.length > MAX_QUERY_IDS) throw validationFailed([{ field: 'body', message: `body must contain at most ${MAX_QUERY_IDS} externalUserIds` }]);
  const errors = body.flatMap((id, index) =>
    typeof id === 'string' && SLUG_1_100.test(id) ? [] : [{ field: `${index}`, message: `${index} must be an externalUserId (1-100 letters, digits, "_" or "-")` }],
  );
  if (errors.length > 0) throw validationFailed(errors);
  return body as string[];
}
