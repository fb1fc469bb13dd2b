import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoWeekLabel, resolveRange } from '../../src/dashboard/buckets.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { adminToken, apiKey, bearer, createApiKey, userToken, type IssuedKey } from '../support/auth.js';
import { database } from './helpers.js';

type Series = Array<{ label: string; count: number }>;
type Summary = Record<'new_users' | 'games_opened' | 'points_earned' | 'actions_performed', Series>;

/** Only the non-empty buckets of a series, as `{label: count}`. */
const nonEmpty = (series: Series) => Object.fromEntries(series.filter((bucket) => bucket.count !== 0).map((bucket) => [bucket.label, bucket.count]));

describe('dashboard summary', () => {
  let t: TestApp;
  let db: pg.Client;
  let keyA: IssuedKey;
  let admin: string;
  let alice: string;

  /** Seeds one tenant: games (with a task each), users, awards and actions at fixed times (UTC). */
  async function seedTenant(
    owner: string,
    stamps: { apiKeyUsed: string | null; oauthUserId: string | null },
    data: { games: string[]; users: string[]; awards: Array<[user: number, points: number, at: string]>; actions: Array<[user: number, at: string]> },
  ) {
    const gameIds: string[] = [];
    const taskIds: string[] = [];
    for (const [index, at] of data.games.entries()) {
      const game = await db.query(
        `INSERT INTO games (external_game_id, platform, strategy_id, owner, api_key_used, oauth_user_id, created_at)
         VALUES ($1, 'web', 'default', $2, $3, $4, $5) RETURNING id`,
        [`game_${index}`, owner, stamps.apiKeyUsed, stamps.oauthUserId, at],
      );
      gameIds.push(game.rows[0].id);
      const task = await db.query(
        `INSERT INTO tasks (game_id, external_task_id, api_key_used, oauth_user_id, created_at) VALUES ($1, 'task', $2, $3, $4) RETURNING id`,
        [game.rows[0].id, stamps.apiKeyUsed, stamps.oauthUserId, at],
      );
      taskIds.push(task.rows[0].id);
    }
    const userIds: string[] = [];
    for (const [index, at] of data.users.entries()) {
      const user = await db.query(
        `INSERT INTO users (owner, external_user_id, api_key_used, oauth_user_id, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [owner, `user_${index}`, stamps.apiKeyUsed, stamps.oauthUserId, at],
      );
      userIds.push(user.rows[0].id);
    }
    for (const [user, points, at] of data.awards) {
      await db.query(
        `INSERT INTO user_points (user_id, task_id, game_id, points, case_name, request_hash, api_key_used, oauth_user_id, created_at)
         VALUES ($1, $2, $3, $4, 'BasicReward', 'hash', $5, $6, $7)`,
        [userIds[user], taskIds[0], gameIds[0], points, stamps.apiKeyUsed, stamps.oauthUserId, at],
      );
    }
    for (const [user, at] of data.actions) {
      await db.query(
        `INSERT INTO user_actions (user_id, game_id, type_action, api_key_used, oauth_user_id, created_at) VALUES ($1, $2, 'click', $3, $4, $5)`,
        [userIds[user], gameIds[0], stamps.apiKeyUsed, stamps.oauthUserId, at],
      );
    }
  }

  beforeAll(async () => {
    t = await startTestApp();
    db = await database();
    keyA = await createApiKey(t, { client: 'tenant-a' });
    admin = await adminToken(t);
    alice = await userToken(t, 'alice');
    // Tenant A (an API key). 2024-12-29 is a Sunday (ISO week 2024-W52); 2024-12-30 is the Monday of 2025-W01.
    await seedTenant(`key:${keyA.id}`, { apiKeyUsed: keyA.id, oauthUserId: null }, {
      games: ['2025-01-01T10:00:00Z', '2025-01-06T23:59:59Z'],
      users: ['2024-12-29T12:00:00Z', '2025-01-01T00:00:00Z'],
      awards: [
        [0, 5, '2024-12-30T08:00:00Z'],
        [1, 3, '2025-01-01T09:00:00Z'],
        [1, 2, '2025-02-10T09:00:00Z'],
      ],
      actions: [[0, '2025-01-06T00:00:00Z']],
    });
    // Tenant B (alice, bearer only).
    await seedTenant('sub:alice', { apiKeyUsed: null, oauthUserId: 'alice' }, {
      games: ['2025-01-01T11:00:00Z'],
      users: ['2025-01-01T11:00:00Z'],
      awards: [[0, 7, '2025-01-01T12:00:00Z']],
      actions: [
        [0, '2025-01-01T12:00:00Z'],
        [0, '2025-01-02T12:00:00Z'],
      ],
    });
    const log = (level: string, apiKeyUsed: string | null, oauthUserId: string | null, at: string) =>
      db.query(`INSERT INTO audit_logs (level, module, message, api_key_used, oauth_user_id, created_at) VALUES ($1, 'test', 'seeded', $2, $3, $4)`, [
        level,
        apiKeyUsed,
        oauthUserId,
        at,
      ]);
    await log('INFO', keyA.id, null, '2025-01-01T10:00:00Z');
    await log('ERROR', keyA.id, null, '2025-01-02T10:00:00Z');
    await log('INFO', keyA.id, 'alice', '2025-01-03T10:00:00Z'); // key and token together: the key's
    await log('WARNING', null, 'alice', '2025-01-01T10:00:00Z');
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  const summary = async (headers: Record<string, string>, query: string): Promise<Summary> => {
    const response = await t.request(`/api/v1/dashboard/summary?${query}`, { headers });
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as Summary;
  };

  it('gives each tenant its own counts per day, with every day of the range listed', async () => {
    const query = 'start_date=2024-12-28&end_date=2025-01-06&group_by=day';
    const a = await summary(apiKey(keyA.key), query);
    expect(a.new_users.map((bucket) => bucket.label)).toEqual([
      '2024-12-28',
      '2024-12-29',
      '2024-12-30',
      '2024-12-31',
      '2025-01-01',
      '2025-01-02',
      '2025-01-03',
      '2025-01-04',
      '2025-01-05',
      '2025-01-06',
    ]);
    expect(a.new_users[0]).toEqual({ label: '2024-12-28', count: 0 });
    expect(nonEmpty(a.new_users)).toEqual({ '2024-12-29': 1, '2025-01-01': 1 });
    expect(nonEmpty(a.games_opened)).toEqual({ '2025-01-01': 1, '2025-01-06': 1 });
    expect(nonEmpty(a.points_earned)).toEqual({ '2024-12-30': 5, '2025-01-01': 3 });
    expect(nonEmpty(a.actions_performed)).toEqual({ '2025-01-06': 1 });

    const b = await summary(bearer(alice), query);
    expect(nonEmpty(b.new_users)).toEqual({ '2025-01-01': 1 });
    expect(nonEmpty(b.games_opened)).toEqual({ '2025-01-01': 1 });
    expect(nonEmpty(b.points_earned)).toEqual({ '2025-01-01': 7 });
    expect(nonEmpty(b.actions_performed)).toEqual({ '2025-01-01': 1, '2025-01-02': 1 });

    const all = await summary(bearer(admin), query);
    expect(nonEmpty(all.new_users)).toEqual({ '2024-12-29': 1, '2025-01-01': 2 });
    expect(nonEmpty(all.games_opened)).toEqual({ '2025-01-01': 2, '2025-01-06': 1 });
    expect(nonEmpty(all.points_earned)).toEqual({ '2024-12-30': 5, '2025-01-01': 10 });
    expect(nonEmpty(all.actions_performed)).toEqual({ '2025-01-01': 1, '2025-01-02': 1, '2025-01-06': 1 });

    // A key sent with a (non-admin) token: the key is the owner.
    expect(nonEmpty((await summary({ ...apiKey(keyA.key), ...bearer(alice) }, query)).points_earned)).toEqual({ '2024-12-30': 5, '2025-01-01': 3 });
    // A tenant with nothing sees zeros.
    const bob = await summary(bearer(await userToken(t, 'bob')), query);
    for (const series of Object.values(bob)) expect(series.every((bucket) => bucket.count === 0) && series.length === 10).toBe(true);
  });

  it('groups by ISO week (YYYY-Www) and by month (YYYY-MM)', async () => {
    const weeks = await summary(apiKey(keyA.key), 'start_date=2024-12-29&end_date=2025-02-10&group_by=week');
    expect(weeks.points_earned.map((bucket) => bucket.label)).toEqual([
      '2024-W52',
      '2025-W01',
      '2025-W02',
      '2025-W03',
      '2025-W04',
      '2025-W05',
      '2025-W06',
      '2025-W07',
    ]);
    expect(nonEmpty(weeks.points_earned)).toEqual({ '2025-W01': 8, '2025-W07': 2 });
    expect(nonEmpty(weeks.new_users)).toEqual({ '2024-W52': 1, '2025-W01': 1 });
    expect(nonEmpty(weeks.games_opened)).toEqual({ '2025-W01': 1, '2025-W02': 1 });

    const months = await summary(bearer(admin), 'start_date=2024-12-01&end_date=2025-03-31&group_by=month');
    expect(months.points_earned).toEqual([
      { label: '2024-12', count: 5 },
      { label: '2025-01', count: 10 },
      { label: '2025-02', count: 2 },
      { label: '2025-03', count: 0 },
    ]);
    expect(months.actions_performed).toEqual([
      { label: '2024-12', count: 0 },
      { label: '2025-01', count: 3 },
      { label: '2025-02', count: 0 },
      { label: '2025-03', count: 0 },
    ]);
  });

  it('counts audit-log entries per level, scoped like the summary', async () => {
    const query = 'start_date=2025-01-01&end_date=2025-01-03&group_by=day';
    const logs = async (headers: Record<string, string>) => {
      const response = await t.request(`/api/v1/dashboard/summary/logs?${query}`, { headers });
      expect(response.status).toBe(200);
      return (await response.json()) as { info: Series; warning: Series; error: Series; totals: Record<string, number> };
    };
    const a = await logs(apiKey(keyA.key));
    expect(a.totals).toEqual({ info: 2, warning: 0, error: 1 });
    expect(a.info).toEqual([
      { label: '2025-01-01', count: 1 },
      { label: '2025-01-02', count: 0 },
      { label: '2025-01-03', count: 1 },
    ]);
    expect((await logs(bearer(alice))).totals).toEqual({ info: 0, warning: 1, error: 0 });
    expect((await logs(bearer(admin))).totals).toEqual({ info: 2, warning: 1, error: 1 });
  });

  it('refuses bad parameters with 422 and missing credentials with 401', async () => {
    const bad = async (query: string, field: string) => {
      const response = await t.request(`/api/v1/dashboard/summary?${query}`, { headers: apiKey(keyA.key) });
      expect(response.status, query).toBe(422);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
      const body = (await response.json()) as { errors: Array<{ field: string }> };
      expect(body.errors.map((error) => error.field), query).toContain(field);
    };
    await bad('group_by=year', 'group_by');
    await bad('start_date=2025-13-01', 'start_date');
    await bad('start_date=2025-02-30', 'start_date');
    await bad('end_date=yesterday', 'end_date');
    await bad('start_date=2025-01-10&end_date=2025-01-01', 'start_date');
    await bad('start_date=2023-01-01&end_date=2025-01-01&group_by=day', 'start_date');
    await bad('unknown=1', 'unknown');
    const logs = await t.request('/api/v1/dashboard/summary/logs?group_by=hour', { headers: apiKey(keyA.key) });
    expect(logs.status).toBe(422);
    expect((await t.request('/api/v1/dashboard/summary')).status).toBe(401);
    // Long ranges are fine when grouped coarsely.
    expect((await t.request('/api/v1/dashboard/summary?start_date=2023-01-01&end_date=2025-01-01&group_by=week', { headers: apiKey(keyA.key) })).status).toBe(200);
  });

  it('defaults to the last 30 days by day', async () => {
    const body = await summary(apiKey(keyA.key), '');
    expect(body.new_users).toHaveLength(30);
    expect(body.new_users[29].label).toBe(new Date().toISOString().slice(0, 10));
  });

  it('documents both routes in OpenAPI with either credential', async () => {
    const spec = (await (await t.request('/openapi.json')).json()) as { paths: Record<string, Record<string, { security: Array<Record<string, unknown>> }>> };
    for (const path of ['/api/v1/dashboard/summary', '/api/v1/dashboard/summary/logs']) {
      expect(new Set(spec.paths[path]?.get.security.flatMap((entry) => Object.keys(entry)))).toEqual(new Set(['api-key', 'oauth2', 'bearer']));
    }
  });
});

describe('dashboard buckets', () => {
  it('labels ISO weeks across year boundaries', () => {
    expect(isoWeekLabel(new Date('2024-12-29T00:00:00Z'))).toBe('2024-W52');
    expect(isoWeekLabel(new Date('2024-12-30T00:00:00Z'))).toBe('2025-W01');
    expect(isoWeekLabel(new Date('2021-01-03T00:00:00Z'))).toBe('2020-W53');
    expect(isoWeekLabel(new Date('2026-11-25T00:00:00Z'))).toBe('2026-W48');
  });

  it('lists months and weeks cut by the range once', () => {
    expect(resolveRange({ start_date: '2025-01-31', end_date: '2025-03-01', group_by: 'month' }).labels).toEqual(['2025-01', '2025-02', '2025-03']);
    expect(resolveRange({ start_date: '2025-01-01', end_date: '2025-01-01', group_by: 'week' }).labels).toEqual(['2025-W01']);
  });
});
