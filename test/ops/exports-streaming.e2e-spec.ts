import { Readable } from 'node:stream';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import ExcelJS from 'exceljs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { adminToken, bearer, createApiKey } from '../support/auth.js';
import { database } from './helpers.js';

const ROWS = 100_000;
const MB = 1024 * 1024;
/**
 * Live memory an export may add. Buffering would need more: the CSV is ~37 MB and the JSON ~52 MB of bytes, the rows
 * as objects several times that, and exceljs without pacing held ~70 MB of sheet XML in our measurements.
 */
const MAX_GROWTH = 20 * MB;

// The app runs in this process: its live memory is what we measure. A forced full GC before each sample counts
// what is retained, not garbage V8 has yet to collect (which depends on the collector's mood, not on the export).
v8.setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** Samples the live heap (+ external buffers) every 200 ms while `work` runs; reports the peak growth over the start. */
async function measureMemory<T>(work: () => Promise<T>): Promise<{ result: T; heapGrowth: number; rssGrowth: number }> {
  const used = () => {
    collectGarbage();
    const usage = process.memoryUsage();
    return { heap: usage.heapUsed + usage.external, rss: usage.rss };
  };
  const start = used();
  let peak = { ...start };
  const timer = setInterval(() => {
    const now = used();
    peak = { heap: Math.max(peak.heap, now.heap), rss: Math.max(peak.rss, now.rss) };
  }, 200);
  try {
    const result = await work();
    return { result, heapGrowth: peak.heap - start.heap, rssGrowth: peak.rss - start.rss };
  } finally {
    clearInterval(timer);
  }
}

/** Reads a response body chunk by chunk, keeping only its size (and, when asked, the chunks). */
async function drain(response: Response, keep = false): Promise<{ bytes: number; chunks: Buffer[] }> {
  const reader = response.body!.getReader();
  let bytes = 0;
  const chunks: Buffer[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes, chunks };
    bytes += value.byteLength;
    if (keep) chunks.push(Buffer.from(value));
  }
}

describe('streamed exports of 100,000 rows', () => {
  let t: TestApp;
  let db: pg.Client;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp();
    db = await database();
    admin = await adminToken(t);
    const key = await createApiKey(t);
    const owner = `key:${key.id}`;
    const game = await db.query(`INSERT INTO games (external_game_id, platform, strategy_id, owner) VALUES ('big', 'web', 'default', $1) RETURNING id`, [owner]);
    const task = await db.query(`INSERT INTO tasks (game_id, external_task_id) VALUES ($1, 'big_task') RETURNING id`, [game.rows[0].id]);
    const user = await db.query(`INSERT INTO users (owner, external_user_id) VALUES ($1, 'big_user') RETURNING id`, [owner]);
    await db.query(
      `INSERT INTO user_points (user_id, task_id, game_id, points, case_name, data, request_hash, api_key_used, created_at)
       SELECT $1, $2, $3, g % 50, 'BasicReward', jsonb_build_object('note', repeat('x', 150), 'n', g), md5(g::text), $4,
              timestamptz '2025-01-01T00:00:00Z' + g * interval '1 second'
       FROM generate_series(1, ${ROWS}) AS g`,
      [user.rows[0].id, task.rows[0].id, game.rows[0].id, key.id],
    );
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  const download = (query: string, init: RequestInit = {}) => t.request(`/api/v1/exports/user-points?${query}`, { headers: bearer(admin), ...init });

  async function settled(exportId: string): Promise<Record<string, unknown>> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const { rows } = await db.query(`SELECT status, row_count AS "rowCount", error FROM export_audit_logs WHERE id = $1`, [exportId]);
      if (rows[0] && rows[0].status !== 'started') return rows[0];
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`export ${exportId} never settled`);
  }

  it.each(['csv', 'json'])('streams %s in constant memory: > 30 MB out, < 20 MB of live heap growth', async (format) => {
    await drain(await download(`format=${format}&limit=2000`)); // warm up
    const { result, heapGrowth, rssGrowth } = await measureMemory(async () => {
      const response = await download(`format=${format}&limit=${ROWS}`);
      expect(response.status).toBe(200);
      const { bytes } = await drain(response);
      return { bytes, id: response.headers.get('x-export-id')! };
    });
    console.info(`${format}: ${(result.bytes / MB).toFixed(1)} MB sent; live heap+external growth ${(heapGrowth / MB).toFixed(1)} MB, rss growth ${(rssGrowth / MB).toFixed(1)} MB`);
    expect(result.bytes).toBeGreaterThan(30 * MB);
    expect(heapGrowth).toBeLessThan(MAX_GROWTH);
    expect(await settled(result.id)).toMatchObject({ status: 'completed', rowCount: ROWS, error: null });
  });

  it('streams xlsx in constant memory, and the workbook reads back with every row', async () => {
    await drain(await download('format=xlsx&limit=2000')); // warm up
    const { result, heapGrowth, rssGrowth } = await measureMemory(async () => {
      const response = await download(`format=xlsx&limit=${ROWS}`);
      expect(response.status).toBe(200);
      const { bytes, chunks } = await drain(response, true);
      return { bytes, chunks, id: response.headers.get('x-export-id')! };
    });
    console.info(`xlsx: ${(result.bytes / MB).toFixed(1)} MB sent; live heap+external growth ${(heapGrowth / MB).toFixed(1)} MB, rss growth ${(rssGrowth / MB).toFixed(1)} MB`);
    expect(heapGrowth - result.bytes).toBeLessThan(MAX_GROWTH); // the test itself keeps the file's bytes
    expect(await settled(result.id)).toMatchObject({ status: 'completed', rowCount: ROWS });

    const reader = new ExcelJS.stream.xlsx.WorkbookReader(Readable.from(result.chunks), { worksheets: 'emit', sharedStrings: 'cache' });
    let rows = 0;
    let last: unknown[] = [];
    for await (const sheet of reader) {
      for await (const row of sheet as AsyncIterable<ExcelJS.Row>) {
        rows++;
        last = row.values as unknown[];
      }
    }
    expect(rows).toBe(ROWS + 1); // the header row, then every record
    expect(JSON.parse(String(last[9]))).toEqual({ note: 'x'.repeat(150), n: ROWS });
  });

  it.each(['csv', 'xlsx'])('records a client that goes away mid-export (%s) as failed and frees its connection', async (format) => {
    const controller = new AbortController();
    const response = await download(`format=${format}&limit=${ROWS}`, { signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.read().catch(() => undefined);
    const entry = await settled(response.headers.get('x-export-id')!);
    expect(entry).toMatchObject({ status: 'failed', error: 'client disconnected' });
    expect(Number(entry.rowCount)).toBeLessThan(ROWS);
    const { rows } = await db.query(`SELECT count(*)::int AS open FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'FETCH %'  AND state <> 'idle'`);
    expect(rows[0].open).toBe(0);
    expect((await t.request('/health/ready')).status).toBe(200);
  });

  it('survives the database failing mid-stream: the response is cut off, the history says failed', async () => {
    const response = await download(`format=json&limit=${ROWS}`);
    const reader = response.body!.getReader();
    await reader.read();
    // The export's connection sits idle in its transaction between batches while we don't read: kill it.
    let killed = 0;
    for (let attempt = 0; attempt < 100 && killed === 0; attempt++) {
      const { rows } = await db.query(
        `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE 'FETCH %'`,
      );
      killed = rows.length;
      if (killed === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(killed).toBe(1);
    let failed = false;
    try {
      for (;;) {
        const { done } = await reader.read();
        if (done) break;
      }
    } catch {
      failed = true;
    }
    expect(failed).toBe(true); // truncated: no terminating chunk, so the client can't mistake it for a whole file
    expect(await settled(response.headers.get('x-export-id')!)).toMatchObject({ status: 'failed', error: 'export failed' });
    // The process and its pool are fine.
    expect((await t.request('/health/ready')).status).toBe(200);
    const again = await download('format=json&limit=5');
    expect(((await again.json()) as unknown[]).length).toBe(5);
  });
});
