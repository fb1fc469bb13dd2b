import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthContext } from '../auth/auth-context.js';
import { ownerKeyOf } from '../games/tenancy.js';
import { resolveRange, sqlBucketLabel, toSeries, type ResolvedRange } from './buckets.js';
import type { DashboardLogsDto, DashboardQueryDto, DashboardSummaryDto } from './dashboard.dto.js';

type CountRow = { label: string; count: string | number };

/**
 * Activity over time (GAME's dashboard), scoped unlike GAME's: a caller that is not an admin sees its own namespace
 * only — the games and end users whose `owner` is its key (or, bearer-only, its subject), and the awards and actions
 * of those users — and its own audit entries; an admin sees everything.
 */
@Injectable()
export class DashboardService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async summary(auth: AuthContext, query: DashboardQueryDto): Promise<DashboardSummaryDto> {
    const range = resolveRange(query);
    const owner = auth.isAdmin ? null : ownerKeyOf(auth);
    const series = (from: string, time: string, aggregate: string, ownerColumn: string) =>
      this.series(range, { from, time, aggregate, ownerColumn, owner });
    const [newUsers, gamesOpened, pointsEarned, actionsPerformed] = await Promise.all([
      series('users u', 'u.created_at', 'count(*)', 'u.owner'),
      series('games g', 'g.created_at', 'count(*)', 'g.owner'),
      series('user_points p JOIN users u ON u.id = p.user_id', 'p.created_at', 'sum(p.points)', 'u.owner'),
      series('user_actions a JOIN users u ON u.id = a.user_id', 'a.created_at', 'count(*)', 'u.owner'),
    ]);
    return { new_users: newUsers, games_opened: gamesOpened, points_earned: pointsEarned, actions_performed: actionsPerformed };
  }

  async logs(auth: AuthContext, query: DashboardQueryDto): Promise<DashboardLogsDto> {
    const range = resolveRange(query);
    const params: unknown[] = [range.start, range.end];
    let scope = '';
    if (!auth.isAdmin) {
      if (auth.apiKey) {
        params.push(auth.apiKey.id);
        scope = 'AND l.api_key_used = $3';
      } else {
        params.push(auth.oauthUserId);
        scope = 'AND l.api_key_used IS NULL AND l.oauth_user_id = $3';
      }
    }
    const rows = (await this.dataSource.query(
      `SELECT l.level, ${sqlBucketLabel('l.created_at', range.groupBy)} AS label, count(*) AS count
       FROM audit_logs l
       WHERE l.created_at >= $1 AND l.created_at < $2 ${scope}
       GROUP BY 1, 2`,
      params,
    )) as Array<CountRow & { level: string }>;
    const ofLevel = (level: string) => toSeries(range.labels, rows.filter((row) => row.level === level));
    const info = ofLevel('INFO');
    const warning = ofLevel('WARNING');
    const error = ofLevel('ERROR');
    const total = (series: Array<{ count: number }>) => series.reduce((sum, bucket) => sum + bucket.count, 0);
    return { info, warning, error, totals: { info: total(info), warning: total(warning), error: total(error) } };
  }

  /** One series; `from`, `time`, `aggregate` and `ownerColumn` are constants of this class, never request input. */
  private async series(
    range: ResolvedRange,
    spec: { from: string; time: string; aggregate: string; ownerColumn: string; owner: string | null },
  ): Promise<Array<{ label: string; count: number }>> {
    const params: unknown[] = [range.start, range.end];
    if (spec.owner !== null) params.push(spec.owner);
    const rows = (await this.dataSource.query(
      `SELECT ${sqlBucketLabel(spec.time, range.groupBy)} AS label, ${spec.aggregate} AS count
       FROM ${spec.from}
       WHERE ${spec.time} >= $1 AND ${spec.time} < $2 ${spec.owner !== null ? `AND ${spec.ownerColumn} = $3` : ''}
       GROUP BY 1`,
      params,
    )) as CountRow[];
    return toSeries(range.labels, rows);
  }
}
