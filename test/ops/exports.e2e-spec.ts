import ExcelJS from 'exceljs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASETS } from '../../src/exports/datasets.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { adminToken, apiKey, bearer, createApiKey, userToken, type IssuedKey } from '../support/auth.js';
import { database, parseCsv } from './helpers.js';

const FORBIDDEN = 'Data exports require an authenticated administrator.';
const FORMULA = /^[=+\-@\t\r]/;

type Row = Record<string, unknown>;

/** What a CSV cell must hold for a value of the JSON export: text, with formula-like text prefixed by `'`. */
function expectedCsvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return FORMULA.test(text) ? `'${text}` : text;
}

/**
 * What an XLSX cell must hold: numbers as numbers, text as is (spreadsheets never run a text cell), null as empty.
 * XML normalises line ends, so a CRLF inside a text reads back as LF.
 */
function expectedXlsxCell(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  return (typeof value === 'object' ? JSON.stringify(value) : String(value)).replace(/\r\n?/g, '\n');
}

async function readXlsx(buffer: Buffer): Promise<unknown[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(buffer as never);
  const sheet = workbook.worksheets[0];
  const rows: unknown[][] = [];
  sheet.eachRow({ includeEmpty: true }, (row) => {
    const values = (row.values as unknown[]).slice(1); // exceljs rows are 1-based
    rows.push(values);
  });
  return rows;
}

describe('data exports', () => {
  let t: TestApp;
  let db: pg.Client;
  let admin: string;
  let key: IssuedKey;
  const ids: Record<string, string[]> = {};

  beforeAll(async () => {
    t = await startTestApp();
    db = await database();
    admin = await adminToken(t);
    key = await createApiKey(t);
    const owner = `key:${key.id}`;
    const one = async (sql: string, params: unknown[]) => (await db.query(sql, params)).rows[0].id as string;
    const game = await one(
      `INSERT INTO games (external_game_id, platform, strategy_id, owner, api_key_used, created_at) VALUES ('spring', 'web', 'default', $1, $2, '2025-03-01T00:00:00Z') RETURNING id`,
      [owner, key.id],
    );
    const task = await one(`INSERT INTO tasks (game_id, external_task_id, api_key_used) VALUES ($1, '=task', $2) RETURNING id`, [game, key.id]);
    const user = (external: string, at: string) =>
      one(`INSERT INTO users (owner, external_user_id, api_key_used, oauth_user_id, created_at) VALUES ($1, $2, $3, 'alice', $4) RETURNING id`, [
        owner,
        external,
        key.id,
        at,
      ]);
    ids.users = [await user('plain_user', '2025-03-01T10:00:00Z'), await user('-dash_user', '2025-03-02T10:00:00Z'), await user('@at_user', '2025-03-03T10:00:00Z')];
    const wallet = (userId: string, points: number, coins: string) =>
      one(`INSERT INTO wallets (user_id, points_balance, coins_balance, conversion_rate, api_key_used) VALUES ($1, $2, $3, 100, $4) RETURNING id`, [
        userId,
        points,
        coins,
        key.id,
      ]);
    const wallets = [await wallet(ids.users[0], 12, '1.5'), await wallet(ids.users[1], 0, '0'), await wallet(ids.users[2], 3, '0.25')];
    const award = (userId: string, points: number, data: unknown, at: string) =>
      one(
        `INSERT INTO user_points (user_id, task_id, game_id, points, case_name, data, request_hash, api_key_used, created_at)
         VALUES ($1, $2, $3, $4, 'BasicReward', $5, 'hash', $6, $7) RETURNING id`,
        [userId, task, game, points, JSON.stringify(data), key.id, at],
      );
    ids['user-points'] = [
      await award(ids.users[0], 10, { note: '=1+2', nested: { n: 1 } }, '2025-03-04T10:00:00.123Z'),
      await award(ids.users[1], -4, {}, '2025-03-05T10:00:00Z'),
      await award(ids.users[2], 3, { quote: 'say "hi", then\nleave' }, '2025-03-06T10:00:00Z'),
    ];
    const action = (userId: string, type: string, description: string | null, at: string) =>
      one(
        `INSERT INTO user_actions (user_id, game_id, task_id, type_action, description, data, api_key_used, created_at)
         VALUES ($1, $2, $3, $4, $5, '{"k":"v"}', $6, $7) RETURNING id`,
        [userId, game, task, type, description, key.id, at],
      );
    ids['user-actions'] = [
      await action(ids.users[0], '+click', '=HYPERLINK("http://evil.example","x")', '2025-03-07T10:00:00Z'),
      await action(ids.users[1], 'view', 'a,b\r\n"c"', '2025-03-08T10:00:00Z'),
      await action(ids.users[2], '\ttabbed', null, '2025-03-09T10:00:00Z'),
    ];
    const transaction = (walletId: string, type: string, points: number, coins: string, rate: number | null, at: string) =>
      one(
        `INSERT INTO wallet_transactions (wallet_id, transaction_type, points, coins, applied_conversion_rate, api_key_used, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
        [walletId, type, points, coins, rate, key.id, at],
      );
    ids['wallet-transactions'] = [
      await transaction(wallets[0], 'AssignPoints', 162, '0', null, '2025-03-10T10:00:00Z'),
      await transaction(wallets[0], 'ConvertPoints', -150, '1.5', 100, '2025-03-11T10:00:00Z'),
      await transaction(wallets[2], 'AssignPoints', 3, '0', null, '2025-03-12T10:00:00Z'),
    ];
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  const download = (path: string, headers: Record<string, string> = bearer(admin), init: RequestInit = {}) =>
    t.request(`/api/v1/exports/${path}`, { headers, ...init });

  /** The history entry of an export, once it has settled (the run settles when the response stream closes). */
  async function settledEntry(exportId: string): Promise<Row> {
    for (let attempt = 0; attempt < 100; attempt++) {
      const page = (await (await t.request('/api/v1/exports/history?page_size=100', { headers: bearer(admin) })).json()) as { items: Row[] };
      const entry = page.items.find((item) => item.id === exportId);
      if (entry && entry.status !== 'started') return entry;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`export ${exportId} never settled`);
  }

  it.each(Object.keys(DATASETS))('exports %s as JSON, CSV and XLSX that parse back to the same rows', async (dataset) => {
    const columns = DATASETS[dataset].columns;

    const json = await download(`${dataset}?format=json`);
    expect(json.status).toBe(200);
    expect(json.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(json.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="${dataset}_\\d{8}T\\d{6}Z\\.json"$`));
    const rows = (await json.json()) as Row[];
    expect(rows.map((row) => row.id)).toEqual(ids[dataset]);
    for (const row of rows) expect(Object.keys(row)).toEqual(columns);
    expect(await settledEntry(json.headers.get('x-export-id')!)).toMatchObject({ dataset, format: 'json', status: 'completed', rowCount: 3, requestedBy: 'admin' });

    const csv = await download(`${dataset}?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="${dataset}_\\d{8}T\\d{6}Z\\.csv"$`));
    const text = await csv.text();
    expect(text.endsWith('\r\n')).toBe(true);
    const table = parseCsv(text);
    expect(table[0]).toEqual(columns);
    expect(table.slice(1)).toEqual(rows.map((row) => columns.map((column) => expectedCsvCell(row[column]))));

    const xlsx = await download(`${dataset}?format=xlsx`);
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(xlsx.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="${dataset}_\\d{8}T\\d{6}Z\\.xlsx"$`));
    const sheet = await readXlsx(Buffer.from(await xlsx.arrayBuffer()));
    expect(sheet[0]).toEqual(columns);
    const normalise = (values: unknown[]) => columns.map((_, index) => values[index] ?? null);
    expect(sheet.slice(1).map(normalise)).toEqual(rows.map((row) => columns.map((column) => expectedXlsxCell(row[column]))));
    expect(await settledEntry(xlsx.headers.get('x-export-id')!)).toMatchObject({ format: 'xlsx', status: 'completed', rowCount: 3 });
  });

  it('exports the seeded values exactly (numbers as numbers, JSON as JSON, UTC timestamps)', async () => {
    const points = (await (await download('user-points?format=json')).json()) as Row[];
    expect(points[0]).toMatchObject({
      externalUserId: 'plain_user',
      externalGameId: 'spring',
      externalTaskId: '=task',
      points: 10,
      caseName: 'BasicReward',
      data: { note: '=1+2', nested: { n: 1 } },
      apiKeyUsed: key.id,
      oauthUserId: null,
      created_at: '2025-03-04T10:00:00.123Z',
    });
    const users = (await (await download('users?format=json')).json()) as Row[];
    expect(users[0]).toMatchObject({ externalUserId: 'plain_user', owner: `key:${key.id}`, pointsBalance: 12, coinsBalance: 1.5, oauthUserId: 'alice' });
    const transactions = (await (await download('wallet-transactions?format=json')).json()) as Row[];
    expect(transactions[1]).toMatchObject({ transactionType: 'ConvertPoints', points: -150, coins: 1.5, appliedConversionRate: 100, externalUserId: 'plain_user' });
  });

  it('escapes formula-like text in CSV and quotes per RFC 4180', async () => {
    const text = await (await download('user-actions?format=csv')).text();
    expect(text).toContain(`,'+click,"'=HYPERLINK(""http://evil.example"",""x"")",`);
    expect(text).toContain(`,view,"a,b\r\n""c""",`);
    expect(text).toContain(`,'\ttabbed,`);
    expect(text).toContain(`,'=task,`);
    const users = await (await download('users?format=csv')).text();
    expect(users).toContain(`,'-dash_user,`);
    expect(users).toContain(`,'@at_user,`);
    const points = await (await download('user-points?format=csv')).text();
    expect(points).toContain(',-4,'); // a negative number is data, not a formula
    expect(points).toContain(`,"{""note"":""=1+2"",""nested"":{""n"":1}}",`); // JSON text starts with "{": left alone
  });

  it('filters by creation time and limits the rows', async () => {
    const rows = async (query: string) => ((await (await download(`user-points?format=json&${query}`)).json()) as Row[]).map((row) => row.id);
    expect(await rows('dateFrom=2025-03-05')).toEqual(ids['user-points'].slice(1));
    expect(await rows('dateTo=2025-03-05')).toEqual(ids['user-points'].slice(0, 2)); // a bare date covers the whole day
    expect(await rows('dateFrom=2025-03-05T00:00:00Z&dateTo=2025-03-05T23:00:00Z')).toEqual([ids['user-points'][1]]);
    expect(await rows('limit=1')).toEqual([ids['user-points'][0]]);
    expect(await rows('dateFrom=2030-01-01')).toEqual([]);
    const entry = await settledEntry((await download('users?format=csv&dateFrom=2025-03-02&limit=2')).headers.get('x-export-id')!);
    expect(entry).toMatchObject({ filters: { dateFrom: '2025-03-02', dateTo: null, limit: 2 }, rowCount: 2, status: 'completed' });
  });

  it('refuses non-admins: an API key alone is 401, a non-admin bearer 403, nothing at all 401', async () => {
    const alice = await userToken(t, 'alice');
    for (const path of ['users?format=csv', 'history', 'no-such-dataset']) {
      const byKey = await download(path, apiKey(key.key));
      expect(byKey.status, path).toBe(401);
      expect(((await byKey.json()) as { detail: string }).detail).toBe('This endpoint requires a bearer token.');
      const byAlice = await download(path, bearer(alice));
      expect(byAlice.status, path).toBe(403);
      expect(((await byAlice.json()) as { detail: string }).detail).toBe(FORBIDDEN);
      const byAliceWithKey = await download(path, { ...bearer(alice), ...apiKey(key.key) });
      expect(byAliceWithKey.status, path).toBe(403);
      expect((await download(path, {})).status, path).toBe(401);
    }
  });

  it('answers 404 for an unknown dataset and 422 for bad parameters', async () => {
    const unknown = await download('games?format=csv');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { detail: string }).detail).toBe(
      'Export dataset not found: games. Available datasets: users, user-points, user-actions, wallet-transactions.',
    );
    expect((await download('__proto__')).status).toBe(404);
    for (const query of ['format=pdf', 'limit=0', 'limit=100001', 'limit=ten', 'dateFrom=yesterday', 'dateFrom=2025-03-05&dateTo=2025-03-01', 'other=1']) {
      const response = await download(`users?${query}`);
      expect(response.status, query).toBe(422);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    }
  });

  it('lists the runs in the history, newest first, paginated and filterable', async () => {
    const run = await download('wallet-transactions?format=xlsx&limit=2');
    await run.arrayBuffer();
    const entry = await settledEntry(run.headers.get('x-export-id')!);
    expect(entry).toMatchObject({
      dataset: 'wallet-transactions',
      format: 'xlsx',
      filters: { dateFrom: null, dateTo: null, limit: 2 },
      rowCount: 2,
      status: 'completed',
      error: null,
      requestedBy: 'admin',
    });
    expect(typeof entry.completed_at).toBe('string');
    const page = (await (await t.request('/api/v1/exports/history?page_size=1', { headers: bearer(admin) })).json()) as {
      items: Row[];
      search_options: { total_count: number; page_size: number; ordering: string };
    };
    expect(page.items).toHaveLength(1);
    expect(page.items[0].id).toBe(entry.id);
    expect(page.search_options).toMatchObject({ page_size: 1, ordering: '-created_at' });
    expect(page.search_options.total_count).toBeGreaterThan(10);
    const filtered = (await (await t.request('/api/v1/exports/history?dataset=wallet-transactions&status=completed&page_size=100', { headers: bearer(admin) })).json()) as {
      items: Row[];
    };
    expect(filtered.items.every((item) => item.dataset === 'wallet-transactions' && item.status === 'completed')).toBe(true);
    expect((await t.request('/api/v1/exports/history?ordering=requestedBy', { headers: bearer(admin) })).status).toBe(422);
  });

  it('documents the routes as admin-only (bearer schemes) in OpenAPI', async () => {
    const spec = (await (await t.request('/openapi.json')).json()) as { paths: Record<string, Record<string, { security: Array<Record<string, unknown>> }>> };
    for (const path of ['/api/v1/exports/{dataset}', '/api/v1/exports/history']) {
      const schemes = new Set(spec.paths[path]?.get.security.flatMap((entry) => Object.keys(entry)));
      expect(schemes.has('oauth2') && schemes.has('bearer'), path).toBe(true);
    }
  });
});
