/**
 * `npm run bench` (issue 7): measured speed of the real request paths, as ratios to a baseline in the same run.
 *
 * Builds the app, starts one PostgreSQL (embedded unless DATABASE_URL is set) with a fresh database, the compiled
 * app and a baseline server (test/bench/baseline-server.ts) on it, pins both servers to one core and this process —
 * the autocannon load generator — to the other, runs the scenarios (each with a warm-up, then BENCH_RUNS runs,
 * interleaved round by round so background noise hits every scenario alike, every other round in reverse order) and
 * reports the medians, the ratios and the targets on stdout and in test/bench/results/latest.json (with a Markdown table
 * beside it for the README). The README's "Performance" section explains the scenarios and the numbers.
 *
 * Env: BENCH_DURATION (s per run, 10), BENCH_WARMUP (s, 3), BENCH_RUNS (2), BENCH_SCENARIOS (e.g. "1,2,3" or
 * "health,authMeApiKey"), BENCH_SKIP_HISTORY=1 (no 1M seed, no scenario 8), BENCH_HISTORY_AWARDS (1000000),
 * BENCH_SKIP_BUILD=1, BENCH_PIN=0 (no taskset), BENCH_POOL_SIZE (10, the app's default, used by both servers),
 * BENCH_PROFILE=1 (the app and the baseline write --cpu-prof profiles to test/bench/results/), BENCH_OUTPUT (results path),
 * BENCH_SHARED_BUFFERS (the embedded PostgreSQL's shared_buffers, 1GB), BENCH_RATE_LIMITS=off (default: on, every
 * limit raised out of reach), BENCH_APP_NODE_ARGS (extra Node/V8 flags for the app only, e.g.
 * "--max-semi-space-size=64", to try a runtime setting against the same baseline), BENCH_APP_ENV (extra app settings,
 * "NAME=value …", e.g. "METRICS_ENABLED=false", to measure what a feature costs), DATABASE_URL (an existing server:
 * a fresh database is created on it and dropped after).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import pg from 'pg';
import { runLoad, type Request, type RunResult } from './load.js';
import {
  describeExit,
  freePort,
  pinSelf,
  runCommand,
  signalAllChildrenSync,
  startNode,
  stopChild,
  tasksetAvailable,
  waitForHttp,
  type Child,
} from './processes.js';
import { DbSampler, type DbActivity } from './db-sampler.js';
import { QUIET_BUSY_CORES, waitForQuiet, type QuietWait } from './quiet.js';
import { AWARD_P99_MAX_MS, hostNotes, markdownReport, MIX_P99_MAX_MS } from './report.js';
import { checkConsistency, seedHistory, type Consistency } from './seed.js';

const ROOT = resolve(import.meta.dirname, '../..');
const RESULTS = join(ROOT, 'test/bench/results');

// ---------------------------------------------------------------- options

function intEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min} (got "${raw}")`);
  return value;
}
/** BENCH_APP_ENV: "NAME=value NAME2=value2", extra settings for the app only (e.g. METRICS_ENABLED=false). */
function appEnvOf(raw: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of raw.split(/\s+/).filter(Boolean)) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
    if (!match) throw new Error(`BENCH_APP_ENV: "${pair}" is not NAME=value`);
    env[match[1]] = match[2];
  }
  return env;
}
const flag = (name: string) => ['1', 'true', 'yes', 'on'].includes((process.env[name] ?? '').toLowerCase());

const options = {
  durationSeconds: intEnv('BENCH_DURATION', 10, 1),
  warmupSeconds: intEnv('BENCH_WARMUP', 3, 0),
  runs: intEnv('BENCH_RUNS', 2, 1),
  skipHistory: flag('BENCH_SKIP_HISTORY'),
  historyAwards: intEnv('BENCH_HISTORY_AWARDS', 1_000_000, 1),
  skipBuild: flag('BENCH_SKIP_BUILD'),
  pin: process.env.BENCH_PIN !== '0',
  poolSize: intEnv('BENCH_POOL_SIZE', 10, 1),
  profile: flag('BENCH_PROFILE'),
  output: resolve(ROOT, process.env.BENCH_OUTPUT ?? 'test/bench/results/latest.json'),
  rateLimits: process.env.BENCH_RATE_LIMITS === 'off' ? ('off' as const) : ('raised' as const),
  appNodeArgs: (process.env.BENCH_APP_NODE_ARGS ?? '').split(/\s+/).filter(Boolean),
  appEnv: appEnvOf(process.env.BENCH_APP_ENV ?? ''),
  // The embedded PostgreSQL's buffer cache. PostgreSQL's own default (128 MB) is far below what a deployed server gets
  // (a quarter of RAM is the usual advice): with the million-award history, the index pages an award touches at
  // random positions (~250 MB) would not fit, and scenario 8 would measure that misconfiguration.
  sharedBuffers: process.env.BENCH_SHARED_BUFFERS?.trim() || '1GB',
};

/** Users the award scenarios rotate over. */
const AWARD_USERS = 10_000;
/** Users of the load mix's writes, and its tasks. */
const MIX_USERS = 1_000;
const MIX_TASKS = 5;
const RUN_TAG = randomBytes(4).toString('hex');

// ---------------------------------------------------------------- scenarios

interface Fixtures {
  apiKey: string;
  bearer: string;
  award?: { gameId: string; taskId: string; externalTaskId: string; owner: string; apiKeyId: string };
  baseline?: { gameId: string; externalTaskId: string };
  mix?: { gameId: string; externalTaskIds: string[] };
}

interface Scenario {
  id: number;
  name: string;
  title: string;
  server: 'app' | 'baseline';
  connections: number;
  needsCore: boolean;
  requests(f: Fixtures): Request[];
}

let sequence = 0;
const next = () => sequence++;
const json = { 'content-type': 'application/json' };

function awardRequest(f: Fixtures): Request {
  const { gameId, externalTaskId } = f.award!;
  return {
    method: 'POST',
    path: `/api/v1/games/${gameId}/tasks/${externalTaskId}/points`,
    headers: { ...json, 'x-api-key': f.apiKey },
    setupRequest: (request) => {
      const n = next();
      return {
        ...request,
        headers: { ...request.headers, 'idempotency-key': `${RUN_TAG}-${n}` },
        body: JSON.stringify({ externalUserId: `u-${n % AWARD_USERS}` }),
      };
    },
  };
}

/**
 * GAME's load mix as one 40-request cycle per connection: 28 reads (70 %), 10 writes (25 %: five "action, then
 * points" pairs for one user), 2 aggregations (5 %).
 */
function mixRequests(f: Fixtures): Request[] {
  const { gameId, externalTaskIds } = f.mix!;
  const strategiesAnonymous: Request = { name: 'strategies', method: 'GET', path: '/api/v1/strategies' };
  const strategiesWithKey: Request = { name: 'strategiesApiKey', method: 'GET', path: '/api/v1/strategies', headers: { 'x-api-key': f.apiKey } };
  const strategiesWithBearer: Request = {
    name: 'strategiesBearer',
    method: 'GET',
    path: '/api/v1/strategies',
    headers: { authorization: `Bearer ${f.bearer}` },
  };
  const gamesList: Request = { name: 'gamesList', method: 'GET', path: '/api/v1/games?page=1&page_size=10', headers: { 'x-api-key': f.apiKey } };
  const details: Request = { name: 'pointsDetails', method: 'GET', path: `/api/v1/games/${gameId}/points/details`, headers: { 'x-api-key': f.apiKey } };
  const action: Request = {
    name: 'action',
    method: 'POST',
    path: '/',
    headers: { ...json, 'x-api-key': f.apiKey },
    setupRequest: (request, context) => {
      const n = next();
      context.user = `m-${n % MIX_USERS}`;
      context.task = externalTaskIds[n % externalTaskIds.length];
      return {
        ...request,
        path: `/api/v1/games/${gameId}/tasks/${String(context.task)}/action`,
        body: JSON.stringify({ typeAction: 'bench-action', externalUserId: context.user }),
      };
    },
  };
  const points: Request = {
    name: 'points',
    method: 'POST',
    path: '/',
    headers: { ...json, 'x-api-key': f.apiKey },
    setupRequest: (request, context) => ({
      ...request,
      path: `/api/v1/games/${gameId}/tasks/${String(context.task)}/points`,
      headers: { ...request.headers, 'idempotency-key': `${RUN_TAG}-mix-${next()}` },
      body: JSON.stringify({ externalUserId: context.user }),
    }),
  };
  const reads = [
    ...Array<Request>(10).fill(strategiesAnonymous),
    ...Array<Request>(4).fill(strategiesWithKey),
    ...Array<Request>(4).fill(strategiesWithBearer),
    ...Array<Request>(10).fill(gamesList),
  ];
  // Spread the reads between the pairs: [r r r r a p r r] x5, with a details request instead of a read twice. The
  // reads are taken with a stride coprime to 28, so each of the 28 is used once and the kinds interleave.
  const cycle: Request[] = [];
  let read = 0;
  const nextRead = () => reads[(read++ * 11) % reads.length];
  for (let block = 0; block < 5; block++) {
    for (let i = 0; i < 4; i++) cycle.push(block % 3 === 0 && i === 0 ? details : nextRead());
    cycle.push(action, points);
    for (let i = 0; i < 2; i++) cycle.push(nextRead());
  }
  if (read !== reads.length || cycle.length !== 40) throw new Error('the load mix cycle is not 28 reads, 10 writes, 2 aggregations');
  return cycle;
}

const SCENARIOS: Scenario[] = [
  { id: 1, name: 'baselineHello', title: 'baseline GET /hello', server: 'baseline', connections: 50, needsCore: false, requests: () => [{ method: 'GET', path: '/hello' }] },
  { id: 2, name: 'health', title: 'app GET /health', server: 'app', connections: 50, needsCore: false, requests: () => [{ method: 'GET', path: '/health' }] },
  {
    id: 3,
    name: 'authMeApiKey',
    title: 'app GET /api/v1/auth/me, API key',
    server: 'app',
    connections: 50,
    needsCore: false,
    requests: (f) => [{ method: 'GET', path: '/api/v1/auth/me', headers: { 'x-api-key': f.apiKey } }],
  },
  {
    id: 4,
    name: 'authMeJwt',
    title: 'app GET /api/v1/auth/me, reused bearer token',
    server: 'app',
    connections: 50,
    needsCore: false,
    requests: (f) => [{ method: 'GET', path: '/api/v1/auth/me', headers: { authorization: `Bearer ${f.bearer}` } }],
  },
  { id: 5, name: 'awardApiKey', title: 'app award points, API key', server: 'app', connections: 50, needsCore: true, requests: (f) => [awardRequest(f)] },
  {
    id: 6,
    name: 'baselineAward',
    title: 'baseline POST /award (plain SQL)',
    server: 'baseline',
    connections: 50,
    needsCore: true,
    requests: (f) => [
      {
        method: 'POST',
        path: '/award',
        headers: json,
        setupRequest: (request) => {
          const n = next();
          return {
            ...request,
            headers: { ...request.headers, 'idempotency-key': `${RUN_TAG}-b-${n}` },
            body: JSON.stringify({ gameId: f.baseline!.gameId, externalTaskId: f.baseline!.externalTaskId, externalUserId: `b-${n % AWARD_USERS}` }),
          };
        },
      },
    ],
  },
  { id: 7, name: 'gameMix', title: "app GAME's load mix", server: 'app', connections: 100, needsCore: true, requests: mixRequests },
  {
    id: 8,
    name: 'awardAfterHistory',
    title: 'app award points after 1M past awards',
    server: 'app',
    connections: 50,
    needsCore: true,
    requests: (f) => [awardRequest(f)],
  },
];

function selectedScenarios(): Scenario[] {
  const raw = process.env.BENCH_SCENARIOS?.trim();
  let chosen = SCENARIOS;
  if (raw) {
    const wanted = raw.split(',').map((item) => item.trim()).filter(Boolean);
    const unknown = wanted.filter((item) => !SCENARIOS.some((s) => String(s.id) === item || s.name === item));
    if (unknown.length > 0) throw new Error(`BENCH_SCENARIOS: unknown ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => `${s.id}=${s.name}`).join(', ')})`);
    chosen = SCENARIOS.filter((s) => wanted.includes(String(s.id)) || wanted.includes(s.name));
  }
  if (options.skipHistory) chosen = chosen.filter((s) => s.id !== 8);
  return chosen;
}

// ---------------------------------------------------------------- processes

let postgres: Child | undefined;
let app: Child | undefined;
let baseline: Child | undefined;
let dropDatabase: (() => Promise<void>) | undefined;
let sampler: DbSampler | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await sampler?.close();
    await Promise.all([app && stopChild(app), baseline && stopChild(baseline)]);
    if (dropDatabase) await dropDatabase().catch((error: Error) => console.error(`could not drop the bench database: ${error.message}`));
    if (postgres) await stopChild(postgres, { how: 'disconnect', timeoutMs: 20_000 });
  })();
  return cleaning;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    console.error(`\n${signal}: stopping the servers and PostgreSQL…`);
    void cleanup().finally(() => process.exit(130));
  });
}
process.on('exit', signalAllChildrenSync);

async function startPostgres(): Promise<{ adminUrl: string; benchUrl: string; embedded: boolean; sharedBuffers: string }> {
  const name = `questline_bench_${Date.now()}`;
  let adminUrl: string;
  const embedded = !process.env.DATABASE_URL;
  if (process.env.DATABASE_URL) {
    adminUrl = process.env.DATABASE_URL;
  } else {
    postgres = startNode('postgres', [join(ROOT, 'scripts/pg-cluster.mjs')], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, EMBEDDED_POSTGRES_SHARED_BUFFERS: options.sharedBuffers },
      cwd: ROOT,
    });
    const pgChild = postgres;
    const message = await new Promise<{ url: string }>((resolvePromise, reject) => {
      pgChild.proc.once('message', (value) => resolvePromise(value as { url: string }));
      void pgChild.exited.then(() => reject(new Error(describeExit(pgChild))));
    });
    adminUrl = `${message.url}/postgres`;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const sharedBuffers = String((await admin.query('SHOW shared_buffers')).rows[0].shared_buffers);
  await admin.end();
  const benchUrl = new URL(adminUrl);
  benchUrl.pathname = `/${name}`;
  if (!embedded) {
    dropDatabase = async () => {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.end();
    };
  }
  return { adminUrl, benchUrl: benchUrl.toString(), embedded, sharedBuffers };
}

/**
 * Rate limits stay on but raised far out of reach, so the award and action paths pay for the limiter's checks as in
 * production without ever answering 429 (issue 7: "limits raised"); BENCH_RATE_LIMITS=off turns them off instead.
 */
function rateLimitEnv(): Record<string, string> {
  if (options.rateLimits === 'off') return { RATE_LIMITS_ENABLED: 'false' };
  const high = '1000000000';
  return {
    RATE_LIMITS_ENABLED: 'true',
    RATE_LIMIT_PER_API_KEY: high,
    RATE_LIMIT_PER_IP: high,
    RATE_LIMIT_PER_EXTERNAL_USER: high,
    DAILY_QUOTA_PER_API_KEY: high,
  };
}

// ---------------------------------------------------------------- fixtures through the real API

async function call<T>(url: string, init: RequestInit, expected: number[]): Promise<T> {
  const response = await fetch(url, init);
  const text = await response.text();
  if (!expected.includes(response.status)) throw new Error(`${init.method ?? 'GET'} ${url} → ${response.status} ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

async function token(appUrl: string, username: string): Promise<string> {
  const body = await call<{ access_token: string }>(
    `${appUrl}/realms/questline/protocol/openid-connect/token`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'questline-swagger', username, password: username, scope: 'openid' }),
    },
    [200],
  );
  return body.access_token;
}

async function coreAvailable(appUrl: string): Promise<boolean> {
  const response = await fetch(`${appUrl}/api/v1/strategies`);
  await response.arrayBuffer();
  return response.status === 200;
}

async function createGame(appUrl: string, apiKey: string, externalGameId: string, externalTaskIds: string[]) {
  const headers = { ...json, 'x-api-key': apiKey };
  const game = await call<{ gameId: string }>(
    `${appUrl}/api/v1/games`,
    { method: 'POST', headers, body: JSON.stringify({ externalGameId, platform: 'bench' }) },
    [201],
  );
  const taskIds: string[] = [];
  for (const externalTaskId of externalTaskIds) {
    const task = await call<{ taskId: string }>(
      `${appUrl}/api/v1/games/${game.gameId}/tasks`,
      { method: 'POST', headers, body: JSON.stringify({ externalTaskId }) },
      [201],
    );
    taskIds.push(task.taskId);
  }
  return { gameId: game.gameId, taskIds };
}

async function query(databaseUrl: string, sql: string, values: unknown[]): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows;
  } finally {
    await client.end();
  }
}

async function createFixtures(appUrl: string, databaseUrl: string, withCore: boolean): Promise<Fixtures> {
  const admin = await token(appUrl, 'admin');
  const key = await call<{ plaintext: string; id: string }>(
    `${appUrl}/api/v1/apikey/create`,
    { method: 'POST', headers: { ...json, authorization: `Bearer ${admin}` }, body: JSON.stringify({ client: 'bench', description: 'npm run bench' }) },
    [201],
  );
  const fixtures: Fixtures = { apiKey: key.plaintext, bearer: await token(appUrl, 'alice') };
  if (!withCore) return fixtures;

  const award = await createGame(appUrl, key.plaintext, `bench-award-${RUN_TAG}`, ['award-task']);
  const base = await createGame(appUrl, key.plaintext, `bench-baseline-${RUN_TAG}`, ['award-task']);
  const mixTasks = Array.from({ length: MIX_TASKS }, (_, i) => `mix-task-${i}`);
  const mix = await createGame(appUrl, key.plaintext, `bench-mix-${RUN_TAG}`, mixTasks);
  const [row] = (await query(databaseUrl, `SELECT owner, api_key_used AS "apiKeyId" FROM games WHERE id = $1`, [award.gameId])) as Array<{
    owner: string;
    apiKeyId: string;
  }>;
  fixtures.award = { gameId: award.gameId, taskId: award.taskIds[0], externalTaskId: 'award-task', owner: row.owner, apiKeyId: row.apiKeyId };
  // Steady state before the first run: every user of the award scenarios exists and has one past award on its task,
  // so scenarios 5, 6 and 8 all measure awards to known users (not mostly first awards) and 5 and 8 differ only by
  // the size of the history (10,000 vs 1,010,000 past awards).
  for (const [userPrefix, gameId, taskId] of [
    ['u-', award.gameId, award.taskIds[0]],
    ['b-', base.gameId, base.taskIds[0]],
  ]) {
    await seedHistory(databaseUrl, {
      gameId,
      taskId,
      owner: row.owner,
      apiKeyId: row.apiKeyId,
      userPrefix,
      users: AWARD_USERS,
      awards: AWARD_USERS,
      conversionRate: 100,
    });
  }
  fixtures.baseline = { gameId: base.gameId, externalTaskId: 'award-task' };
  fixtures.mix = { gameId: mix.gameId, externalTaskIds: mixTasks };
  return fixtures;
}

// ---------------------------------------------------------------- measuring

interface ScenarioResult {
  id: number;
  title: string;
  server: 'app' | 'baseline';
  connections: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Summed over the measured runs (not the warm-up). */
  errors: number;
  non2xx: number;
  statusCodes: Record<string, number>;
  /** The load generator used ≥ 90 % of its core in some run: the server may be faster than measured. */
  loadGeneratorBound: boolean;
  /** Server CPU per response (median over runs), in µs — the noise-robust cost of the path. */
  serverCpuUsPerRequest?: number;
  /** The load mix per request kind: latencies are medians over runs, counts are sums. */
  byRequest?: Record<string, { responses: number; p50Ms: number; p99Ms: number; non2xx: number }>;
  /** PostgreSQL sessions during the runs (median of the runs' averages); award and mix scenarios only. */
  db?: Omit<DbActivity, 'samples'>;
  runs: MeasuredRun[];
}

type MeasuredRun = RunResult & { db?: DbActivity; quietWait?: QuietWait };

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : Math.round(((sorted[middle - 1] + sorted[middle]) / 2) * 100) / 100;
};

function summarize(scenario: Scenario, runs: MeasuredRun[]): ScenarioResult {
  const statusCodes: Record<string, number> = {};
  for (const run of runs) for (const [code, count] of Object.entries(run.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
  return {
    id: scenario.id,
    title: scenario.title,
    server: scenario.server,
    connections: scenario.connections,
    rps: median(runs.map((run) => run.rps)),
    p50Ms: median(runs.map((run) => run.p50Ms)),
    p99Ms: median(runs.map((run) => run.p99Ms)),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    statusCodes,
    loadGeneratorBound: runs.some((run) => (run.cpu.loadGenerator ?? 0) >= 0.9),
    serverCpuUsPerRequest: runs.every((run) => run.serverCpuUsPerRequest !== undefined)
      ? median(runs.map((run) => run.serverCpuUsPerRequest!))
      : undefined,
    byRequest: mergeByRequest(runs),
    db: runs.every((run) => run.db)
      ? {
          active: median(runs.map((run) => run.db!.active)),
          lockWaits: median(runs.map((run) => run.db!.lockWaits)),
          idleInTransaction: median(runs.map((run) => run.db!.idleInTransaction)),
        }
      : undefined,
    runs,
  };
}

function mergeByRequest(runs: MeasuredRun[]): ScenarioResult['byRequest'] {
  if (!runs.every((run) => run.byRequest)) return undefined;
  const merged: NonNullable<ScenarioResult['byRequest']> = {};
  for (const name of Object.keys(runs[0].byRequest!)) {
    const kinds = runs.map((run) => run.byRequest![name]).filter(Boolean);
    merged[name] = {
      responses: kinds.reduce((sum, kind) => sum + kind.responses, 0),
      p50Ms: median(kinds.map((kind) => kind.p50Ms)),
      p99Ms: median(kinds.map((kind) => kind.p99Ms)),
      non2xx: kinds.reduce((sum, kind) => sum + kind.non2xx, 0),
    };
  }
  return merged;
}

function describeRun(run: MeasuredRun): string {
  const codes = Object.entries(run.statusCodes)
    .map(([code, count]) => `${code}×${count}`)
    .join(' ');
  const cpu = run.cpu;
  return (
    `${run.rps.toFixed(0).padStart(6)} req/s  p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms  errors ${run.errors}  non-2xx ${run.non2xx}  [${codes}]` +
    `  cpu: load ${cpu.loadGenerator ?? '?'} server ${cpu.server ?? '?'} machine ${cpu.machine ?? '?'}` +
    (run.serverCpuUsPerRequest !== undefined ? ` (${run.serverCpuUsPerRequest} µs/req)` : '') +
    (run.db ? `  db: active ${run.db.active} lock-waits ${run.db.lockWaits} idle-in-tx ${run.db.idleInTransaction}` : '') +
    (run.db?.counters && run.responses > 0
      ? ` per request: ${(run.db.counters.transactions / run.responses).toFixed(1)} xacts, ${(run.db.counters.rowsInserted / run.responses).toFixed(1)} ins, ` +
        `${(run.db.counters.rowsUpdated / run.responses).toFixed(1)} upd, ${(run.db.counters.rowsFetched / run.responses).toFixed(1)} fetched, ` +
        `${(run.db.counters.blocksRead / run.responses).toFixed(1)} blocks read outside PostgreSQL's cache`
      : '') +
    (run.quietWait && run.quietWait.waitedMs >= 1000 ? `  (after ${(run.quietWait.waitedMs / 1000).toFixed(1)} s waiting for a quiet machine)` : '')
  );
}

// ---------------------------------------------------------------- report

interface Check {
  name: string;
  description: string;
  evaluated: boolean;
  pass: boolean;
  value?: number | string;
}

function fmt(value: number | undefined, digits = 2): string {
  return value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits);
}

function printTable(results: Record<string, ScenarioResult>, ratios: Record<string, number | undefined>, checks: Check[]) {
  const header = ['#', 'scenario', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'server µs/req'];
  const rows = Object.entries(results).map(([name, r]) => [
    String(r.id),
    `${name}${r.loadGeneratorBound ? ' *' : ''}`,
    String(r.connections),
    r.rps.toFixed(0),
    fmt(r.p50Ms),
    fmt(r.p99Ms),
    String(r.errors),
    String(r.non2xx),
    fmt(r.serverCpuUsPerRequest, 0),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => (i <= 1 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`;
  console.log('');
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i <= 1 ? `-${'-'.repeat(w)}-` : `-${'-'.repeat(w)}:`)).join('|')}|`);
  for (const row of rows) console.log(line(row));
  if (Object.values(results).some((r) => r.loadGeneratorBound)) {
    console.log('* the load generator used ≥ 90 % of its core: that server may be faster than measured.');
  }
  const mix = results.gameMix?.byRequest;
  if (mix) {
    console.log('');
    console.log(`gameMix by request: ${Object.entries(mix).map(([name, k]) => `${name} p50 ${fmt(k.p50Ms)} / p99 ${fmt(k.p99Ms)} ms (${k.responses}${k.non2xx ? `, ${k.non2xx} non-2xx` : ''})`).join('; ')}`);
  }
  console.log('');
  console.log(`| ratio | value | target |`);
  console.log(`|---|---:|---|`);
  for (const [name, value] of Object.entries(ratios)) {
    const check = checks.find((c) => c.name === name);
    console.log(`| ${name} | ${fmt(value)} | ${check ? `${check.description}: ${check.evaluated ? (check.pass ? 'PASS' : 'FAIL') : 'not measured'}` : ''} |`);
  }
  for (const check of checks.filter((c) => !(c.name in ratios))) {
    console.log(`| ${check.name} | ${check.value ?? '—'} | ${check.description}: ${check.evaluated ? (check.pass ? 'PASS' : 'FAIL') : 'not measured'} |`);
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const scenarios = selectedScenarios();
  const cpuList = cpus();
  const pinning = options.pin && tasksetAvailable && cpuList.length >= 2;
  console.log(
    `questline bench: ${scenarios.map((s) => s.id).join(',')} | ${options.runs} run(s) x ${options.durationSeconds} s after ${options.warmupSeconds} s warm-up | ` +
      (pinning ? 'servers on core 1, load generator on core 0, PostgreSQL unpinned' : 'no CPU pinning'),
  );
  if (options.runs < 2) console.log('note: BENCH_RUNS < 2 — fine for a trial, but issue 7 asks for at least two runs per scenario.');

  if (!options.skipBuild) {
    console.log('building (npm run build)…');
    await runCommand('npm', ['run', 'build', '--silent'], ROOT);
  }

  const database = await startPostgres();
  console.log(
    `PostgreSQL: ${database.embedded ? 'embedded (scripts/pg-cluster.mjs, tmpfs)' : 'DATABASE_URL'}, shared_buffers ${database.sharedBuffers}; ` +
      `fresh database ${new URL(database.benchUrl).pathname.slice(1)}`,
  );

  const [appPort, baselinePort] = [await freePort(), await freePort()];
  const appUrl = `http://127.0.0.1:${appPort}`;
  const baselineUrl = `http://127.0.0.1:${baselinePort}`;
  const baseEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LANG: process.env.LANG };
  mkdirSync(RESULTS, { recursive: true });
  app = startNode(
    'app',
    [
      ...(options.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(RESULTS, 'profiles/app')}`] : []),
      ...options.appNodeArgs,
      '--import',
      join(ROOT, 'test/bench/exit-with-parent.mjs'),
      join(ROOT, 'dist/src/main.js'),
    ],
    {
      cwd: ROOT,
      cpus: pinning ? '1' : undefined,
      // NODE_ENV unset: the embedded identity provider issues the tokens. Limits off (API.md §9).
      env: {
        ...baseEnv,
        DATABASE_URL: database.benchUrl,
        DATABASE_POOL_SIZE: String(options.poolSize),
        PORT: String(appPort),
        HOST: '127.0.0.1',
        PUBLIC_URL: appUrl,
        LOG_LEVEL: 'warn',
        ...rateLimitEnv(),
        ...options.appEnv,
      },
    },
  );
  const baselineProfile = options.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(RESULTS, 'profiles/baseline')}`] : [];
  baseline = startNode('baseline', [...baselineProfile, '--import', 'tsx', join(ROOT, 'test/bench/baseline-server.ts')], {
    cwd: ROOT,
    cpus: pinning ? '1' : undefined,
    env: { ...baseEnv, DATABASE_URL: database.benchUrl, DATABASE_POOL_SIZE: String(options.poolSize), PORT: String(baselinePort), HOST: '127.0.0.1' },
  });
  await Promise.all([waitForHttp(`${appUrl}/health/ready`, app, 90_000), waitForHttp(`${baselineUrl}/hello`, baseline, 60_000)]);
  console.log(`app ${appUrl} (pid ${app.proc.pid}), baseline ${baselineUrl} (pid ${baseline.proc.pid})`);
  if (pinning && !pinSelf('0')) console.log('warning: could not pin the load generator to core 0');

  const withCore = await coreAvailable(appUrl);
  let runnable = scenarios;
  const skipped: Record<string, string> = {};
  if (!withCore) {
    for (const s of scenarios.filter((s) => s.needsCore)) skipped[s.name] = 'the games/tasks/points routes are not available in this build';
    runnable = scenarios.filter((s) => !s.needsCore);
    if (runnable.length < scenarios.length) console.log('warning: GET /api/v1/strategies is not 200 — the gamification core is missing; skipping scenarios 5–8');
  }
  const fixtures = await createFixtures(appUrl, database.benchUrl, withCore);

  const urlOf = (s: Scenario) => (s.server === 'app' ? appUrl : baselineUrl);
  const pidOf = (s: Scenario) => (s.server === 'app' ? app!.proc.pid : baseline!.proc.pid);
  const runsOf = new Map<string, MeasuredRun[]>();
  sampler = new DbSampler(database.benchUrl);
  // Lets the requests still in flight when a load stops finish before the next one starts.
  const settle = () => new Promise((resolve) => setTimeout(resolve, 1000));
  const measure = async (s: Scenario, round: number) => {
    if (round === 0 && options.warmupSeconds > 0) {
      const warm = await runLoad({ url: urlOf(s), connections: s.connections, durationSeconds: options.warmupSeconds, requests: s.requests(fixtures) });
      console.log(`  ${String(s.id).padStart(2)} ${s.name.padEnd(18)} warm-up  ${describeRun(warm)}`);
      await settle();
    }
    const quiet = await waitForQuiet(() => sampler!.autovacuumWorkers());
    if (!quiet.quiet) console.log(`     the machine did not quieten within ${Math.round(quiet.waitedMs / 1000)} s (${quiet.busyCores} cores busy): measuring anyway`);
    if (s.needsCore) await sampler!.start();
    const run: MeasuredRun = await runLoad({
      url: urlOf(s),
      connections: s.connections,
      durationSeconds: options.durationSeconds,
      requests: s.requests(fixtures),
      serverPid: pidOf(s),
    });
    if (s.needsCore) run.db = await sampler!.stop();
    run.quietWait = quiet;
    console.log(`  ${String(s.id).padStart(2)} ${s.name.padEnd(18)} run ${round + 1}/${options.runs} ${describeRun(run)}`);
    runsOf.set(s.name, [...(runsOf.get(s.name) ?? []), run]);
    await settle();
    if (s.needsCore) await sampler!.checkpoint();
  };

  // Scenarios 1–7 round by round (so a noisy moment hits every scenario once), then the seed, then scenario 8. Every
  // other round runs them in reverse order (1…7, 7…1, 1…7, …), so within each compared pair (2 and 3, 2 and 4, 5 and 6)
  // neither side always runs first: a drift of the machine, or the aftermath of one run (autovacuum after the award
  // runs' inserts, say) falling on the next, weighs on both sides alike over the rounds.
  const before = runnable.filter((s) => s.id !== 8);
  for (let round = 0; round < options.runs; round++) for (const s of round % 2 === 0 ? before : [...before].reverse()) await measure(s, round);
  let seed: { seconds: number; taskAwards: number; awards: number } | undefined;
  const after = runnable.find((s) => s.id === 8);
  if (after) {
    console.log(`seeding ${options.historyAwards.toLocaleString('en-US')} past awards into the award scenario's game and task…`);
    const a = fixtures.award!;
    const done = await seedHistory(database.benchUrl, {
      gameId: a.gameId,
      taskId: a.taskId,
      owner: a.owner,
      apiKeyId: a.apiKeyId,
      userPrefix: 'u-',
      users: AWARD_USERS,
      awards: options.historyAwards,
      conversionRate: 100,
    });
    seed = { ...done, awards: options.historyAwards };
    console.log(`  seeded in ${done.seconds.toFixed(1)} s; the task now has ${done.taskAwards.toLocaleString('en-US')} awards`);
    for (let round = 0; round < options.runs; round++) await measure(after, round);
  }

  let consistency: Consistency | undefined;
  if (runnable.some((s) => s.needsCore)) {
    consistency = await checkConsistency(database.benchUrl);
    console.log(
      `consistency after the run: ${consistency.ok ? 'OK' : 'BROKEN'} (${consistency.awards.toLocaleString('en-US')} awards; ` +
        `${consistency.userAggregateMismatches} user-aggregate, ${consistency.taskAggregateMismatches} task-aggregate, ${consistency.walletMismatches} wallet mismatches)`,
    );
  }

  // ------------------------------------------------------------ results
  const results: Record<string, ScenarioResult> = {};
  for (const s of SCENARIOS) {
    const runs = runsOf.get(s.name);
    if (runs) results[s.name] = summarize(s, runs);
  }
  const r = (name: string) => results[name];
  const ratio = (a: string, b: string) => (r(a) && r(b) && r(b).rps > 0 ? Math.round((r(a).rps / r(b).rps) * 1000) / 1000 : undefined);
  const ratios = {
    authApiKey: ratio('authMeApiKey', 'health'),
    authJwt: ratio('authMeJwt', 'health'),
    award: ratio('awardApiKey', 'baselineAward'),
    historyFlatness: ratio('awardAfterHistory', 'awardApiKey'),
  };
  // The same ratios within each round (runs are interleaved, so run i of every scenario belongs to round i): how far
  // apart they are says how much the machine moved during the run.
  const roundRatios = (a: string, b: string) =>
    r(a) && r(b) ? r(a).runs.map((run, index) => (r(b).runs[index]?.rps ? Math.round((run.rps / r(b).runs[index].rps) * 1000) / 1000 : undefined)) : undefined;
  const ratiosByRound = {
    authApiKey: roundRatios('authMeApiKey', 'health'),
    authJwt: roundRatios('authMeJwt', 'health'),
    award: roundRatios('awardApiKey', 'baselineAward'),
    historyFlatness: roundRatios('awardAfterHistory', 'awardApiKey'),
  };
  const targets = {
    authApiKey: { min: 0.75, of: 'authMeApiKey / health req/s' },
    authJwt: { min: 0.5, of: 'authMeJwt / health req/s' },
    award: { min: 0.8, p99MaxMs: AWARD_P99_MAX_MS, connections: 50, of: 'awardApiKey / baselineAward req/s; awardApiKey p99' },
    historyFlatness: { min: 0.85, of: 'awardAfterHistory / awardApiKey req/s' },
    gameMix: { errors: 0, non2xx: 0, p99MaxMs: MIX_P99_MAX_MS, connections: 100 },
    everyScenario: { errors: 0, non2xx: 0 },
  };
  const checks: Check[] = [
    { name: 'authApiKey', description: '≥ 0.75', evaluated: ratios.authApiKey !== undefined, pass: (ratios.authApiKey ?? 0) >= 0.75 },
    { name: 'authJwt', description: '≥ 0.50', evaluated: ratios.authJwt !== undefined, pass: (ratios.authJwt ?? 0) >= 0.5 },
    {
      name: 'award',
      description: `≥ 0.80 and awardApiKey p99 ≤ ${AWARD_P99_MAX_MS} ms`,
      evaluated: ratios.award !== undefined,
      pass: (ratios.award ?? 0) >= 0.8 && (r('awardApiKey')?.p99Ms ?? Infinity) <= AWARD_P99_MAX_MS,
    },
    { name: 'historyFlatness', description: '≥ 0.85', evaluated: ratios.historyFlatness !== undefined, pass: (ratios.historyFlatness ?? 0) >= 0.85 },
    {
      name: 'gameMix',
      description: `0 errors, 0 non-2xx, p99 ≤ ${MIX_P99_MAX_MS} ms`,
      evaluated: Boolean(r('gameMix')),
      pass: Boolean(r('gameMix')) && r('gameMix').errors === 0 && r('gameMix').non2xx === 0 && r('gameMix').p99Ms <= MIX_P99_MAX_MS,
      value: r('gameMix') ? `p99 ${fmt(r('gameMix').p99Ms)} ms, ${r('gameMix').errors} errors, ${r('gameMix').non2xx} non-2xx` : undefined,
    },
    {
      name: 'everyScenario',
      description: '0 errors and 0 non-2xx in every scenario (else its numbers are not of the real path)',
      evaluated: Object.keys(results).length > 0,
      pass: Object.values(results).every((x) => x.errors === 0 && x.non2xx === 0),
      value: Object.entries(results)
        .filter(([, x]) => x.errors > 0 || x.non2xx > 0)
        .map(([name]) => name)
        .join(', ') || 'clean',
    },
    {
      name: 'consistency',
      description: 'aggregates and wallets agree with award and ledger rows after the run',
      evaluated: consistency !== undefined,
      pass: consistency?.ok ?? false,
      value: consistency ? (consistency.ok ? 'OK' : 'BROKEN') : undefined,
    },
  ];
  const notes = hostNotes(results);
  const complete = SCENARIOS.every((s) => results[s.name]) && checks.every((c) => c.evaluated);
  const pass = complete && checks.every((c) => c.pass);

  printTable(results, ratios, checks);
  const spread = Object.entries(ratiosByRound)
    .filter(([, values]) => values && values.length > 1)
    .map(([name, values]) => `${name} ${values!.map((value) => (value === undefined ? '—' : value.toFixed(2))).join(' / ')}`);
  if (spread.length > 0) console.log(`\nratios by round: ${spread.join('; ')}`);
  for (const note of notes) console.log(`\nnote: ${note}`);
  const failed = checks.filter((c) => c.evaluated && !c.pass);
  console.log('');
  console.log(
    pass
      ? 'PASS: every target met.'
      : failed.length > 0
        ? `FAIL: ${failed.map((c) => c.name).join(', ')}.`
        : `INCOMPLETE: not every scenario ran (${Object.keys(skipped).length ? `skipped: ${Object.keys(skipped).join(', ')}; ` : ''}pass is false).`,
  );

  const machine = { cpus: cpuList.length, model: cpuList[0]?.model ?? 'unknown', node: process.version, loadAverageAtStart: loadAverageAtStart };
  const report = {
    runAt: new Date().toISOString(),
    machine,
    settings: {
      durationSeconds: options.durationSeconds,
      warmupSeconds: options.warmupSeconds,
      runs: options.runs,
      aggregation: 'rps, p50Ms, p99Ms: median over runs; errors, non2xx: sum over runs',
      order: 'rounds of scenarios 1–7, every other round reversed; scenario 8 after the history seed',
      quietBeforeEachRun: `waits (≤ 30 s) for no autovacuum worker and < ${QUIET_BUSY_CORES} busy cores; a CHECKPOINT follows each run that loads PostgreSQL`,
      pinning: pinning ? { servers: 'core 1', loadGenerator: 'core 0', postgres: 'unpinned' } : 'none',
      postgres: `${database.embedded ? 'embedded (tmpfs, fsync off)' : 'DATABASE_URL'}, shared_buffers ${database.sharedBuffers}`,
      databasePoolSize: options.poolSize,
      rateLimits: options.rateLimits === 'off' ? 'off (RATE_LIMITS_ENABLED=false)' : 'on, every limit raised to 1e9',
      appNodeArgs: options.appNodeArgs.join(' ') || null,
      appEnv: Object.keys(options.appEnv).length > 0 ? options.appEnv : null,
      awardUsers: AWARD_USERS,
      historyBeforeScenario5: `${AWARD_USERS} past awards (one per user) on each award task`,
      history: seed ?? (options.skipHistory ? 'skipped (BENCH_SKIP_HISTORY)' : 'not run'),
      scenariosRequested: scenarios.map((s) => s.name),
      skipped,
    },
    scenarios: results,
    ratios,
    ratiosByRound,
    targets,
    checks,
    notes,
    consistency,
    pass,
  };
  mkdirSync(dirname(options.output), { recursive: true });
  writeFileSync(options.output, `${JSON.stringify(report, null, 2)}\n`);
  const markdown = options.output.replace(/\.json$/, '') + '.md';
  writeFileSync(markdown, markdownReport(report));
  console.log(`results: ${relative(process.cwd(), options.output)} (README table: ${relative(process.cwd(), markdown)})`);
  if (options.profile) console.log(`cpu profiles: ${relative(process.cwd(), RESULTS)}/profiles/{app,baseline}/*.cpuprofile (written when the servers exit; the largest is the main thread)`);
  return failed.length > 0 ? 1 : 0;
}

const loadAverageAtStart = loadavg().map((value) => Math.round(value * 100) / 100);
let exitCode = 2;
try {
  exitCode = await main();
} catch (error) {
  console.error(`\nbench failed: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof Error && error.stack && !error.message.includes('exited (code')) console.error(error.stack.split('\n').slice(1, 6).join('\n'));
} finally {
  await cleanup();
}
process.exit(exitCode);
