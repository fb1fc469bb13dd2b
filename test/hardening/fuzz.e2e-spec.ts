import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { operationsOf, type FuzzOperation, type OpenApiDocument } from './fuzz-arbitraries.js';
import { buildFixtures, devToken, publicTables, snapshotRows, tableDigests, type Fixtures } from './fuzz-fixtures.js';
import { describeRequest, judge, send, agent, type FuzzRequest, type FuzzResponse } from './fuzz-http.js';
import { finalise, fuzzDraft, offSpecDraft, validDraft, type Draft } from './fuzz-requests.js';

/**
 * Schema-driven fuzzing of every operation in /openapi.json (issue 8). The operations are read from the running
 * app, so routes added later are fuzzed without a change here.
 *
 * Phase 1, concurrent (16 in flight, kept-alive connections): every operation in turn, with fast-check arbitraries
 * derived from its parameter and body schemas — valid-ish values and hostile ones (wrong types, missing and extra
 * fields, 100 KB and empty strings, astral/RTL/NUL/control characters, 1,000- and 100,000-level JSON, numbers at and
 * past their limits, bad ids, pollution keys) — and every kind of credential (none, write key, read-only key, other
 * tenant, admin, user, fresh subjects, and malformed keys and tokens), bad headers, wrong content types, malformed
 * JSON and malformed HTTP. A request to a *write* operation always carries at least one defect that the spec or
 * API.md says is refused; a 2xx to such a request is a violation.
 *
 * Phase 2, sequential: schema-valid requests (unicode and control characters included) to every write operation with
 * working credentials and consistent fixture ids, so the rules after validation (403/404/409/410/422) run on real
 * data. Deletes run last.
 *
 * Database accounting ("no row from a refused request"):
 * - Before phase 1, every row of every public table but `migrations` is read, keyed by id (or by its content).
 *   After phase 1 every row must be unchanged, except: (a) `oauth_users` rows whose subject is one of the fresh
 *   tokens' subjects, with exactly one "OAuth user bootstrapped" `audit_logs` entry each — the bootstrap of a valid
 *   token, the one write a refused request may make; (b) `export_audit_logs` rows named by the `X-Export-Id` of an
 *   export that answered 2xx (a read that succeeded and wrote its history). Anything else added, changed or lost
 *   is reported with its table and row.
 * - Phase 2 takes each table's digest (row count + md5 of every row) before and after each request: one answered
 *   4xx (or not at all) must leave every digest unchanged; one answered 2xx may write. Phase 2 only uses subjects
 *   bootstrapped before it starts, so no bootstrap falls into it.
 * - `api_keys.last_used_at` is left out of every comparison: any request with a valid key may set it, off the
 *   request path.
 */

const DEFAULT_SEED = 20_261_125;
const LONG = process.env.HARDENING_LONG === '1';
const PHASE1_REQUESTS = Number(process.env.FUZZ_REQUESTS ?? (LONG ? 50_000 : 10_000));
const PHASE2_PER_OPERATION = LONG ? 150 : 25;
const CONCURRENCY = 16;
const HEALTH_EVERY = 1000;
const CHUNK = 32;

interface Outcome {
  request: FuzzRequest;
  response: FuzzResponse;
  violations: string[];
}

describe('schema-driven fuzzing of /openapi.json', () => {
  let t: TestApp;
  let db: DataSource;
  let fixtures: Fixtures;
  let operations: FuzzOperation[];
  const seed = Number(process.env.FUZZ_SEED ?? DEFAULT_SEED);
  const base = () => new URL(t.baseUrl);
  const failures: Outcome[] = [];
  const healthFailures: string[] = [];
  const statusCounts = new Map<number, number>();
  let sent = 0;
  let bare = 0;
  let fiveHundreds = 0;
  const successfulExports = new Set<string>();

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMITS_ENABLED: 'false' });
    db = t.app.get(DataSource);
    const document = (await (await t.request('/openapi.json')).json()) as OpenApiDocument;
    operations = operationsOf(document);
    fixtures = await buildFixtures(t);
  }, 120_000);

  afterAll(async () => {
    agent.destroy();
    await t?.close();
  });

  const trace = new Map<number, string>();
  function record(request: FuzzRequest, response: FuzzResponse): Outcome {
    sent++;
    if (process.env.FUZZ_REPORT) trace.set(request.seq, `${describeRequest(request)} → ${response.status} ${response.error ?? ''}`);
    statusCounts.set(response.status, (statusCounts.get(response.status) ?? 0) + 1);
    const verdict = judge(request, response);
    if (verdict.bare && response.status >= 400) bare++;
    if (response.status >= 500) fiveHundreds++;
    const outcome = { request, response, violations: verdict.violations };
    if (verdict.violations.length > 0) failures.push(outcome);
    return outcome;
  }

  async function checkHealth(when: string): Promise<void> {
    for (const path of ['/health', '/health/ready']) {
      const response = await send(base(), { seq: -1, op: 'health', method: 'GET', path, headers: [], notes: [] });
      if (response.status !== 200) healthFailures.push(`${when}: GET ${path} → ${response.status} ${response.error ?? response.body.toString('utf8').slice(0, 200)}`);
    }
  }

  /** Drafts of one arbitrary, generated lazily in chunks from seeds derived from the run's seed. */
  function* stream(arbitrary: fc.Arbitrary<Draft>, streamSeed: number): Generator<Draft> {
    for (let chunk = 0; ; chunk++) {
      for (const draft of fc.sample(arbitrary, { seed: (streamSeed + chunk * 7919) | 0, numRuns: CHUNK })) yield draft;
    }
  }

  // What earlier runs of this fuzzer found, pinned down (each was a 5xx or a non-problem answer before its fix).
  it('keeps the fixes for what the fuzzer found', async () => {
    const problemOf = async (response: Response) => ({
      status: response.status,
      type: response.headers.get('content-type')?.split(';')[0],
      correlation: response.headers.get('x-correlation-id'),
      body: (await response.json()) as { status: number; detail: string; errors?: Array<{ field: string }> },
    });
    const { credentials } = fixtures.context;
    const json = { 'content-type': 'application/json' };

    // A signed token whose subject holds U+0000 was a 500 on every route (PostgreSQL text can't store it): now 401.
    const subjects = async () => ((await db.query(`SELECT count(*)::int AS n FROM oauth_users`)) as Array<{ n: number }>)[0].n;
    const before = await subjects();
    const nul = await problemOf(await t.request('/health', { headers: { authorization: `Bearer ${await devToken(t, { sub: 'nul\u0000subject' })}` } }));
    expect(nul).toMatchObject({ status: 401, type: 'application/problem+json', body: { status: 401, detail: 'Invalid token' } });
    expect(await subjects()).toBe(before);

    // 100,000 nested arrays overflowed class-transformer's recursion (500): now 422 before any transformation.
    const gameId = String(fixtures.context.scenes[0].gameId);
    const taskId = String(fixtures.context.scenes[0].externalTaskId);
    const points = `/api/v1/games/${gameId}/tasks/${taskId}/points`;
    const deep = await problemOf(await t.request(points, { method: 'POST', headers: { ...json, 'x-api-key': credentials.writeKey }, body: `${'['.repeat(100_000)}${']'.repeat(100_000)}` }));
    expect(deep).toMatchObject({ status: 422, type: 'application/problem+json' });
    const deepData = await t.request(points, {
      method: 'POST',
      headers: { ...json, 'x-api-key': credentials.writeKey },
      body: `{"externalUserId":"deep","data":${'{"a":'.repeat(150)}1${'}'.repeat(150)}}`,
    });
    expect((await problemOf(deepData)).body.errors?.[0]?.field).toMatch(/^data(\.a)+$/);

    // class-transformer dropped `prototype` and `constructor` silently, so they slipped past forbidNonWhitelisted.
    for (const body of ['{"client":"c","description":"d","prototype":{"x":1}}', '{"client":"c","description":"d","constructor":1}']) {
      const reserved = await problemOf(
        await t.request('/api/v1/apikey/create', { method: 'POST', headers: { ...json, authorization: `Bearer ${credentials.admin}` }, body }),
      );
      expect(reserved).toMatchObject({ status: 422, type: 'application/problem+json' });
    }

    // `ordering=constructor` found Object.prototype.constructor in the allow-list and put its source text in the SQL (500).
    for (const path of ['/api/v1/games?ordering=constructor', `/api/v1/games/${gameId}/tasks?ordering=-toString`, '/api/v1/games?ordering=__proto__']) {
      const ordering = await problemOf(await t.request(path, { headers: { 'x-api-key': credentials.writeKey } }));
      expect(ordering).toMatchObject({ status: 422, type: 'application/problem+json', body: { errors: [{ field: 'ordering' }] } });
    }

    // An array inside `params` passed ValidateNested and reached an INSERT as a param without a key (500).
    const nestedArray = await problemOf(
      await t.request(`/api/v1/games/${gameId}`, {
        method: 'PATCH',
        headers: { ...json, 'x-api-key': credentials.writeKey },
        body: JSON.stringify({ params: [{ key: 'note', value: 1 }, []] }),
      }),
    );
    expect(nestedArray).toMatchObject({ status: 422, type: 'application/problem+json', body: { errors: [{ field: 'params' }] } });

    // Params that make the strategy compute an impossible points value (here -5) were a 500 at award time: now 422.
    const negative = await t.request('/api/v1/games', {
      method: 'POST',
      headers: { ...json, 'x-api-key': credentials.writeKey },
      body: JSON.stringify({ externalGameId: 'fuzz_negative_points', platform: 'web', params: [{ key: 'variable_basic_points', value: -5 }] }),
    });
    expect(negative.status).toBe(201);
    const negativeGame = ((await negative.json()) as { gameId: string }).gameId;
    await t.request(`/api/v1/games/${negativeGame}/tasks`, { method: 'POST', headers: { ...json, 'x-api-key': credentials.writeKey }, body: '{"externalTaskId":"t1"}' });
    const awards = async () => ((await db.query(`SELECT count(*)::int AS n FROM user_points`)) as Array<{ n: number }>)[0].n;
    const awardsBefore = await awards();
    const impossible = await problemOf(
      await t.request(`/api/v1/games/${negativeGame}/tasks/t1/points`, { method: 'POST', headers: { ...json, 'x-api-key': credentials.writeKey }, body: '{"externalUserId":"u1"}' }),
    );
    expect(impossible).toMatchObject({ status: 422, type: 'application/problem+json' });
    expect(await awards()).toBe(awardsBefore);

    // NUL in fields without @NoNul (API-key client) and unpaired surrogates anywhere (jsonb refuses them) were 500s.
    for (const body of ['{"client":"a\\u0000b","description":"d"}', '{"client":"\\ud800","description":"d"}']) {
      const unstorable = await problemOf(
        await t.request('/api/v1/apikey/create', { method: 'POST', headers: { ...json, authorization: `Bearer ${credentials.admin}` }, body }),
      );
      expect(unstorable).toMatchObject({ status: 422, type: 'application/problem+json', body: { errors: [{ field: 'client' }] } });
    }
    const surrogateData = await problemOf(
      await t.request(points, { method: 'POST', headers: { ...json, 'x-api-key': credentials.writeKey }, body: '{"externalUserId":"u1","data":{"x":"\\udfff"}}' }),
    );
    expect(surrogateData).toMatchObject({ status: 422, body: { errors: [{ field: 'data.x' }] } });

    // The router's own answers (over-long path parameter, malformed URL) were Fastify JSON without a correlation id.
    const long = await problemOf(await t.request(`/api/v1/games/${'z'.repeat(600)}`, { headers: { 'x-api-key': credentials.writeKey } }));
    expect(long).toMatchObject({ status: 414, type: 'application/problem+json', body: { status: 414 } });
    expect(long.correlation).toBeTruthy();
    expect(JSON.stringify(long.body)).not.toContain('zzzz');
    const badUrl = await problemOf(await t.request('/api/v1/games/%ZZ', { headers: { 'x-api-key': credentials.writeKey } }));
    expect(badUrl).toMatchObject({ status: 400, type: 'application/problem+json', body: { status: 400 } });
    expect(badUrl.correlation).toBeTruthy();
  });

  it(
    `answers ${PHASE1_REQUESTS.toLocaleString('en')}+ fuzzed requests without a 5xx, a non-problem error, a leak or a stray row`,
    async () => {
      const started = performance.now();
      const { context, freshSubjects, secrets } = fixtures;
      const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort().join();
      const tables = await publicTables(db);
      expect(tables.length).toBeGreaterThan(5);
      const before = await snapshotRows(db, tables);

      // ---- Phase 1: concurrent, every operation in turn (round robin), plus off-spec requests.
      const streams: Array<{ op: string; drafts: Generator<Draft> }> = [];
      const uncovered: string[] = [];
      operations.forEach((operation, index) => {
        const arbitrary = fuzzDraft(operation, context);
        if (arbitrary) streams.push({ op: operation.id, drafts: stream(arbitrary, seed + index * 1_000_003) });
        else uncovered.push(operation.id);
      });
      // A write the fuzzer can't make certain to be refused (public, no path id, no body) is left to phase 2 alone.
      if (uncovered.length > 0) console.info(`fuzz: phase 2 only (no certain defect): ${uncovered.join(', ')}`);
      const offSpec = stream(offSpecDraft(operations, context), seed - 1);
      let next = 0;
      const takeNext = (): FuzzRequest | undefined => {
        if (next >= PHASE1_REQUESTS) return undefined;
        const seq = next++;
        const source = seq % (streams.length + 1) === streams.length ? offSpec : streams[seq % (streams.length + 1)].drafts;
        return finalise(source.next().value as Draft, seq);
      };
      let done = 0;
      let nextHealth = HEALTH_EVERY;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let request = takeNext(); request; request = takeNext()) {
            const response = await send(base(), request);
            record(request, response);
            if (response.status >= 200 && response.status < 300 && request.op === 'GET /api/v1/exports/{dataset}') {
              const exportId = response.headers['x-export-id'];
              if (typeof exportId === 'string') successfulExports.add(exportId);
            }
            done++;
            if (done >= nextHealth) {
              nextHealth += HEALTH_EVERY;
              await checkHealth(`after ${done} requests`);
            }
          }
        }),
      );
      const phase1Ms = performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 500)); // exports settle their history row when the stream closes

      // ---- The database after phase 1: only what the allowed writes explain.
      const after = await snapshotRows(db, tables);
      const strayRows: string[] = [];
      const newSubjects = new Set<string>();
      const added = (table: string) => [...after.get(table)!.entries()].filter(([key]) => !before.get(table)!.has(key));
      for (const [key, row] of added('oauth_users')) {
        if (freshSubjects.has(String(row.subject))) newSubjects.add(String(row.subject));
        else strayRows.push(`oauth_users +${key} subject ${JSON.stringify(row.subject)} (not one of the fresh tokens)`);
      }
      for (const table of tables.map((entry) => entry.name)) {
        const previous = before.get(table)!;
        const current = after.get(table)!;
        for (const [key, row] of current) {
          const old = previous.get(key);
          if (old && JSON.stringify(old) === JSON.stringify(row)) continue;
          if (table === 'oauth_users' && !old) continue; // accounted for above
          if (table === 'audit_logs' && !old && row.message === 'OAuth user bootstrapped' && newSubjects.has(String(row.oauth_user_id))) continue;
          if (table === 'export_audit_logs' && successfulExports.has(key)) continue;
          strayRows.push(`${table} ${old ? 'changed' : 'added'} ${key}: ${JSON.stringify(row).slice(0, 300)}`);
        }
        for (const key of previous.keys()) if (!current.has(key)) strayRows.push(`${table} lost ${key}`);
      }
      const bootstrapEntries = added('audit_logs').filter(([, row]) => row.message === 'OAuth user bootstrapped').length;
      if (bootstrapEntries !== newSubjects.size) strayRows.push(`audit_logs: ${bootstrapEntries} bootstrap entries for ${newSubjects.size} new subjects`);

      // ---- Phase 2: schema-valid writes, one at a time, each refused one checked against every table's digest.
      const phase2Started = performance.now();
      // Deletes go last, so the fixtures they remove serve every other operation first.
      const writes = operations.filter((operation) => operation.write).sort((a, b) => Number(a.method === 'DELETE') - Number(b.method === 'DELETE'));
      const phase2Streams = writes.map((operation, index) => stream(validDraft(operation, context), seed + 77 + index * 999_983));
      const refusedWrites: string[] = [];
      let phase2Count = 0;
      let digest = await tableDigests(db, tables);
      const deletes = writes.filter((operation) => operation.method === 'DELETE').length;
      const batches = [phase2Streams.slice(0, writes.length - deletes), phase2Streams.slice(writes.length - deletes)];
      for (const [batch, streamsOfBatch] of batches.entries()) {
        for (let round = 0; round < PHASE2_PER_OPERATION; round++) {
          for (const drafts of streamsOfBatch) {
            const request = finalise(drafts.next().value as Draft, PHASE1_REQUESTS + phase2Count++);
            const response = await send(base(), request);
            record(request, response);
            if (response.status >= 200 && response.status < 300) {
              // Keys created or rotated here are credentials too: they must not reach the logs either.
              const plaintext = /"plaintext":"([^"]+)"/.exec(response.body.toString('utf8'))?.[1];
              if (plaintext) secrets.push(plaintext, plaintext.split('.')[1] ?? plaintext);
            }
            const afterRequest = await tableDigests(db, tables);
            if (response.status >= 400 || response.status === 0) {
              const changed = Object.keys(afterRequest).filter((table) => afterRequest[table] !== digest[table]);
              if (changed.length > 0) {
                refusedWrites.push(`${changed.join(', ')} changed by a refused request (${response.status} ${response.body.toString('utf8').slice(0, 160)}): ${describeRequest(request)}`);
              }
            }
            digest = afterRequest;
          }
          if (round % 5 === 4) await checkHealth(`phase 2 batch ${batch + 1} round ${round + 1}`);
        }
      }
      const phase2Ms = performance.now() - phase2Started;
      await checkHealth('after the run');

      // ---- Logs never hold a credential that was sent.
      const logs = t.logs.text;
      const leakedSecrets = secrets.filter((secret) => secret.length >= 16 && logs.includes(secret)).map((secret) => `${secret.slice(0, 12)}…`);
      const prototypeAfter = Object.getOwnPropertyNames(Object.prototype).sort().join();

      const totalMs = performance.now() - started;
      const violationCount = failures.length + strayRows.length + refusedWrites.length + healthFailures.length + leakedSecrets.length + (prototypeAfter === prototypeBefore ? 0 : 1);
      console.info(`fuzz: ${sent} requests, ${operations.length} operations, 5xx: ${fiveHundreds}, violations: ${violationCount}, seed: ${seed}`);
      console.info(
        `fuzz: phase 1 ${PHASE1_REQUESTS} requests in ${(phase1Ms / 1000).toFixed(1)} s, phase 2 ${phase2Count} in ${(phase2Ms / 1000).toFixed(1)} s, ` +
          `total ${(totalMs / 1000).toFixed(1)} s; bare Node answers: ${bare}; new subjects bootstrapped: ${newSubjects.size}; exports: ${successfulExports.size}; ` +
          `statuses: ${[...statusCounts.entries()].sort(([a], [b]) => a - b).map(([status, count]) => `${status}×${count}`).join(' ')}`,
      );

      // The app's own log line for a failed request (its error, never shown to the client) makes a 5xx easy to place.
      const logOf = (response: FuzzResponse, request: FuzzRequest) => {
        const sentId = request.headers.find(([name]) => name === 'X-Correlation-ID')?.[1];
        const id = response.headers['x-correlation-id'] ?? (response.status === 0 ? sentId : undefined);
        if (typeof id !== 'string' || (response.status < 500 && response.status !== 0)) return '';
        const lines = t.logs.lines.filter((entry) => entry.includes(`"correlationId":"${id}"`)).slice(0, 3);
        return lines.map((line) => `\n    log: ${line.slice(0, 600)}`).join('');
      };
      const report = [
        ...failures
          .slice(0, 8)
          .map((failure) => `${failure.violations.join(' | ')}\n    ${describeRequest(failure.request)}\n    → ${failure.response.status} ${failure.response.body.toString('utf8').slice(0, 300)}${logOf(failure.response, failure.request)}`),
        ...strayRows.slice(0, 8).map((row) => `row from a refused request: ${row}`),
        ...refusedWrites.slice(0, 8),
        ...healthFailures.slice(0, 4),
        ...leakedSecrets.map((secret) => `credential in the logs: ${secret}`),
        ...(prototypeAfter === prototypeBefore ? [] : [`Object.prototype changed: ${prototypeAfter}`]),
      ];
      if (failures.length > 0) {
        // One line per kind of violation and operation, so a run that finds many shows all of them at a glance.
        const kinds = new Map<string, number>();
        for (const failure of failures) {
          for (const violation of failure.violations) {
            const kind = `${failure.request.op} :: ${violation.slice(0, 90)}`;
            kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
          }
        }
        console.info(`fuzz: violations by kind:\n${[...kinds.entries()].map(([kind, count]) => `  ${count}× ${kind}`).join('\n')}`);
      }
      if (process.env.FUZZ_REPORT) {
        // Every violation with its request, answer and app log line, for triage (FUZZ_REPORT=<file>).
        const full = failures.map((failure) => ({
          violations: failure.violations,
          request: describeRequest(failure.request),
          status: failure.response.status,
          body: failure.response.body.toString('utf8').slice(0, 1000),
          log: logOf(failure.response, failure.request),
          previousOnSocket: (/socket history \[([\d,]+)\]/.exec(failure.response.error ?? '')?.[1] ?? '')
            .split(',')
            .map(Number)
            .filter((seq) => seq !== failure.request.seq)
            .slice(-1)
            .map((seq) => trace.get(seq)),
        }));
        writeFileSync(process.env.FUZZ_REPORT, JSON.stringify({ failures: full, strayRows, refusedWrites, healthFailures, leakedSecrets, trace: [...trace.values()] }, null, 2));
      }
      if (report.length > 0) expect.fail(`${violationCount} violations (seed ${seed}); the first few:\n${report.join('\n')}`);
      expect(fiveHundreds).toBe(0);
      expect(sent).toBeGreaterThanOrEqual(PHASE1_REQUESTS);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
    LONG ? 1_800_000 : 240_000,
  );
});
