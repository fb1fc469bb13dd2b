import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp } from '../support/app.js';
import { adminToken, createApiKey, userToken, type IssuedKey } from '../support/auth.js';
import {
  CREDENTIALS,
  defaultParam,
  expectedOutcome,
  freshOf,
  ROUTE_SPECS,
  securityOf,
  type Answer,
  type CellContext,
  type CredentialName,
  type RouteSpec,
  type TenantFixture,
  type TenantTag,
} from './route-specs.js';

/*
 * The tenant-isolation (BOLA/BFLA) matrix of issue 8: every operation of the running app's /openapi.json × the seven
 * credentials of route-specs.ts, each cell checked against the status the rules give, with refused calls checked for
 * problem+json, for leaks of other tenants' data and ids, and for having changed nothing in the database.
 */

const METRICS_TOKEN = `matrix-metrics-${randomBytes(8).toString('hex')}`;
const t = await startTestApp({ RATE_LIMITS_ENABLED: 'false', METRICS_ENABLED: 'true', METRICS_TOKEN });
const openapi = (await (await t.request('/openapi.json')).json()) as { paths: Record<string, Record<string, any>> };

interface Operation {
  id: string;
  method: string;
  path: string;
  pathParams: string[];
  queryParams: string[];
  security: string[];
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
const operations: Operation[] = Object.entries(openapi.paths)
  .flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => HTTP_METHODS.includes(method))
      .map(([method, op]) => ({
        id: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        pathParams: [...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]),
        queryParams: ((op.parameters ?? []) as Array<{ in: string; name: string }>).filter((p) => p.in === 'query').map((p) => p.name),
        security: ((op.security ?? []) as Array<Record<string, unknown>>).map((entry) => Object.keys(entry)[0] ?? '{}'),
      })),
  )
  .sort((a, b) => a.id.localeCompare(b.id));

const CREDENTIAL_NAMES = Object.keys(CREDENTIALS) as CredentialName[];
const db = () => t.app.get(DataSource);
const unique = () => randomBytes(5).toString('hex');

// --- the cast -------------------------------------------------------------------------------------------------------

let keyA: IssuedKey; // tenant A
let keyB: IssuedKey; // another tenant, read + write
let keyR: IssuedKey; // another tenant, read only
const tokens: Record<string, string> = {};
const shared = {} as Record<TenantTag, TenantFixture>;

/** Every id and value of seeded data, with the label of who may see it ('A', 'S', a key's own label, 'admin'). */
const markers = new Map<string, string>();
const CALLER_LABEL: Record<CredentialName, string> = {
  ownerKey: 'A',
  otherKey: 'B',
  readOnlyKey: 'R',
  ownerSubject: 'S',
  otherSubject: 'bob',
  admin: 'admin',
  none: '',
};

function headersOf(credential: CredentialName): Record<string, string> {
  switch (credential) {
    case 'ownerKey':
      return { 'x-api-key': keyA.key };
    case 'otherKey':
      return { 'x-api-key': keyB.key };
    case 'readOnlyKey':
      return { 'x-api-key': keyR.key };
    case 'ownerSubject':
      return { authorization: `Bearer ${tokens.alice}` };
    case 'otherSubject':
      return { authorization: `Bearer ${tokens.bob}` };
    case 'admin':
      return { authorization: `Bearer ${tokens.admin}` };
    case 'none':
      return {};
  }
}

async function send(method: string, url: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
  const response = await t.request(url, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  if ((response.headers.get('content-type') ?? '').includes('json') && text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
}

async function created(method: string, url: string, owner: CredentialName, body: unknown): Promise<any> {
  const answer = await send(method, url, headersOf(owner), body);
  if (answer.status !== 201) throw new Error(`fixture ${method} ${url}: ${answer.status} ${answer.text}`);
  return answer.body;
}

/** A game with a task, a user with two awards (so a wallet with a balance) and an action, owned by tenant `tag`. */
async function tenantFixture(tag: TenantTag): Promise<TenantFixture> {
  const owner: CredentialName = tag === 'A' ? 'ownerKey' : 'ownerSubject';
  const mark = `mx${tag}${unique()}`;
  const game = await created('POST', '/api/v1/games', owner, { externalGameId: `${mark}_game`, platform: `${mark}_platform` });
  const task = await created('POST', `/api/v1/games/${game.gameId}/tasks`, owner, { externalTaskId: `${mark}_task` });
  const externalUserId = `${mark}_user`;
  const awardIds: string[] = [];
  for (let i = 0; i < 2; i++) {
    const award = await created('POST', `/api/v1/games/${game.gameId}/tasks/${task.externalTaskId}/points`, owner, { externalUserId });
    awardIds.push(award.id);
  }
  await created('POST', `/api/v1/games/${game.gameId}/tasks/${task.externalTaskId}/action`, owner, {
    typeAction: 'seeded',
    externalUserId,
    description: `${mark}_description`,
  });
  const fixture: TenantFixture = {
    tag,
    owner: tag === 'A' ? `key:${keyA.id}` : 'sub:alice',
    gameId: game.gameId,
    externalGameId: game.externalGameId,
    platform: game.platform,
    taskId: task.taskId,
    externalTaskId: task.externalTaskId,
    externalUserId,
    awardIds,
  };
  for (const value of [fixture.gameId, fixture.externalGameId, fixture.platform, fixture.taskId, fixture.externalTaskId, externalUserId, ...awardIds, `${mark}_description`]) {
    markers.set(value, tag);
  }
  return fixture;
}

async function freshKey(): Promise<IssuedKey> {
  const key = await createApiKey(t, { client: `matrix-${unique()}` });
  markers.set(key.prefix, 'admin');
  markers.set(key.id, 'admin');
  return key;
}

// --- database fingerprints ------------------------------------------------------------------------------------------

let tables: string[] = [];

/** One hash per table over every row (`api_keys.last_used_at` aside: a key's use may refresh it once a minute). */
async function exportsSettled(): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const [{ open }] = (await db().query(`SELECT count(*)::int AS open FROM export_audit_logs WHERE status = 'started'`)) as Array<{ open: number }>;
    if (open === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('an export never recorded its outcome');
}

async function databasePrint(): Promise<Map<string, string>> {
  const sql = tables
    .map(
      (table) =>
        `SELECT '${table}' AS name, count(*)::int || ':' || md5(coalesce(string_agg(x, ',' ORDER BY x), '')) AS print
         FROM (SELECT (to_jsonb(r) - 'last_used_at')::text AS x FROM "${table}" r) s`,
    )
    .join(' UNION ALL ');
  const rows = (await db().query(sql)) as Array<{ name: string; print: string }>;
  return new Map(rows.map((row) => [row.name, row.print]));
}

const TENANT_TABLES: Array<[string, string]> = [
  ['games', 'r.owner = $1'],
  ['game_params', 'r.game_id IN (SELECT id FROM g)'],
  ['tasks', 'r.game_id IN (SELECT id FROM g)'],
  ['task_params', 'r.task_id IN (SELECT id FROM tasks WHERE game_id IN (SELECT id FROM g))'],
  ['task_award_stats', 'r.task_id IN (SELECT id FROM tasks WHERE game_id IN (SELECT id FROM g))'],
  ['task_user_award_stats', 'r.game_id IN (SELECT id FROM g) OR r.user_id IN (SELECT id FROM u)'],
  ['users', 'r.owner = $1'],
  ['wallets', 'r.user_id IN (SELECT id FROM u)'],
  ['wallet_transactions', 'r.wallet_id IN (SELECT id FROM wallets WHERE user_id IN (SELECT id FROM u))'],
  ['user_points', 'r.game_id IN (SELECT id FROM g) OR r.user_id IN (SELECT id FROM u)'],
  ['user_actions', 'r.game_id IN (SELECT id FROM g) OR r.user_id IN (SELECT id FROM u)'],
];

/** One hash per table over the rows of one tenant's namespace (its games and users and all that hangs off them). */
async function tenantPrint(owner: string): Promise<Map<string, string>> {
  const sql = `WITH g AS (SELECT id FROM games WHERE owner = $1), u AS (SELECT id FROM users WHERE owner = $1) ${TENANT_TABLES.map(
    ([table, where]) =>
      `SELECT '${table}' AS name, count(*)::int || ':' || md5(coalesce(string_agg(to_jsonb(r)::text, ',' ORDER BY to_jsonb(r)::text), '')) AS print
       FROM "${table}" r WHERE ${where}`,
  ).join(' UNION ALL ')}`;
  const rows = (await db().query(sql, [owner])) as Array<{ name: string; print: string }>;
  return new Map(rows.map((row) => [row.name, row.print]));
}

function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after.keys()].filter((name) => before.get(name) !== after.get(name));
}

// --- one cell -------------------------------------------------------------------------------------------------------

interface Cell {
  op: Operation;
  spec: RouteSpec;
  credential: CredentialName;
  label: string;
  /** Path parameters that replace the spec's (extra cells). */
  params?: (c: CellContext) => Record<string, string>;
  /** Adds `?tenant=` naming the target's namespace (default: the admin does on routes that take it). */
  namesTenant?: boolean;
}

const tally = { cells: 0, failed: 0, failures: [] as string[] };

/** Runs one cell; answers its failures (empty when it passed). */
async function runCell(cell: Cell): Promise<string[]> {
  const { op, spec, credential } = cell;
  const traits = CREDENTIALS[credential];
  const fresh = freshOf(spec);
  const target = fresh === 'tenant' ? await tenantFixture(traits.target) : shared[traits.target];
  const key = fresh === 'apiKey' ? await freshKey() : undefined;
  const namesTenant = op.queryParams.includes('tenant') && (cell.namesTenant ?? credential === 'admin');
  const context: CellContext = { credential, traits, target, ownerKeyPrefix: keyA.prefix, freshKeyPrefix: key?.prefix, namesTenant, unique };

  const failures: string[] = [];
  const params: Record<string, string> = {};
  const overrides = { ...spec.params?.(context), ...cell.params?.(context) };
  for (const name of op.pathParams) {
    const value = overrides[name] ?? defaultParam(name, context);
    if (value === undefined) return [`no fixture fills path parameter {${name}}`];
    params[name] = value;
  }
  const query: Record<string, string> = { ...spec.query?.(context) };
  if (namesTenant) query.tenant = target.tag === 'A' ? `key:${keyA.prefix}` : 'sub:alice';
  const search = new URLSearchParams(query).toString();
  const url = op.path.replace(/\{(\w+)\}/g, (_match, name: string) => encodeURIComponent(params[name])) + (search ? `?${search}` : '');
  const body = spec.body?.(context);
  const expected = expectedOutcome(op.method, spec, credential, params, namesTenant);
  const refusedExpected = expected.status >= 400;
  const stranger = !traits.owner && traits.bearer !== 'admin';
  const targetOwner = target.owner;

  const dbBefore = refusedExpected ? await databasePrint() : undefined;
  const tenantBefore = stranger ? await tenantPrint(targetOwner) : undefined;
  const answer = await send(op.method, url, headersOf(credential), body);
  const excerpt = answer.text.slice(0, 300);
  // An export records its outcome when its stream closes, just after the client has read the last byte: let that
  // write land before the next cell fingerprints the database.
  if (answer.status < 400 && op.path.startsWith('/api/v1/exports/{')) await exportsSettled();

  if (answer.status !== expected.status) failures.push(`status ${answer.status}, expected ${expected.status}: ${excerpt}`);
  if (answer.status >= 400) {
    if (!(answer.headers.get('content-type') ?? '').startsWith('application/problem+json')) {
      failures.push(`refusal is not problem+json (${answer.headers.get('content-type')})`);
    } else if (answer.body?.status !== answer.status) {
      failures.push(`problem status ${answer.body?.status} ≠ ${answer.status}`);
    }
    if (expected.detail !== undefined && answer.status === expected.status && answer.body?.detail !== expected.detail) {
      failures.push(`detail ${JSON.stringify(answer.body?.detail)}, expected ${JSON.stringify(expected.detail)}`);
    }
    if (answer.status === 401 && !answer.headers.get('www-authenticate')) failures.push('401 without WWW-Authenticate');
  }
  if (dbBefore) {
    const tablesChanged = changed(dbBefore, await databasePrint());
    if (tablesChanged.length) failures.push(`a refused call changed the database: ${tablesChanged.join(', ')}`);
  }
  if (tenantBefore) {
    const tablesChanged = changed(tenantBefore, await tenantPrint(targetOwner));
    if (tablesChanged.length) failures.push(`another tenant's call changed the target's data: ${tablesChanged.join(', ')}`);
  }
  // What the caller may not see: everything not its own, except what it sent itself (a 404 echoes the id asked for).
  if (credential !== 'admin' || answer.status >= 400) {
    const sent = decodeURIComponent(url) + (body === undefined ? '' : JSON.stringify(body));
    const visible = answer.text + [...answer.headers.entries()].map(([name, value]) => `${name}: ${value}`).join('\n');
    const own = CALLER_LABEL[credential];
    for (const [marker, label] of markers) {
      if (label !== own && !sent.includes(marker) && visible.includes(marker)) failures.push(`leaks ${label}'s ${marker}`);
    }
  }
  if (answer.status === expected.status && !refusedExpected && spec.check) {
    const problem = spec.check(context, answer);
    if (problem) failures.push(problem);
  }
  return failures.map((failure) => `${op.id} [${cell.label}] ${failure}`);
}

function cellsOf(op: Operation, spec: RouteSpec): Cell[] {
  const cells: Cell[] = CREDENTIAL_NAMES.map((credential) => ({ op, spec, credential, label: credential }));
  if (op.queryParams.includes('tenant')) {
    // The admin in its own namespace (no ?tenant=): the target's users are not there.
    cells.push({ op, spec, credential: 'admin', label: 'admin without ?tenant', namesTenant: false });
    // `?tenant=` is for admins: another tenant naming the target's namespace is refused; the owner may name its own.
    for (const credential of ['otherKey', 'otherSubject', 'ownerKey', 'ownerSubject'] as const) {
      cells.push({ op, spec, credential, label: `${credential} with ?tenant=`, namesTenant: true });
    }
  }
  // Subject-bound: asking for someone else's externalUserId is refused, admins included.
  if (spec.scope === 'subject') {
    cells.push({ op, spec, credential: 'otherSubject', label: 'bob as alice', params: () => ({ externalUserId: 'alice' }) });
    cells.push({ op, spec, credential: 'admin', label: 'admin as a user of A', params: (c) => ({ externalUserId: c.target.externalUserId }) });
  }
  return cells;
}

function record(failures: string[], cells: number, failedCells: number): void {
  tally.cells += cells;
  tally.failed += failedCells;
  tally.failures.push(...failures);
}

// --- the suite ------------------------------------------------------------------------------------------------------

describe('tenant-isolation matrix (API.md §1–§2, issue 8)', () => {
  beforeAll(async () => {
    tables = (
      (await db().query(
        `SELECT table_name AS name FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT IN ('migrations', 'typeorm_metadata')
         ORDER BY 1`,
      )) as Array<{ name: string }>
    ).map((row) => row.name);
    [keyA, keyB, keyR] = await Promise.all([
      createApiKey(t, { client: 'tenant-a' }),
      createApiKey(t, { client: 'tenant-b' }),
      createApiKey(t, { client: 'tenant-r', scopes: ['read'] }),
    ]);
    for (const [label, key] of [['A', keyA], ['B', keyB], ['R', keyR]] as const) {
      markers.set(key.prefix, label);
      markers.set(key.id, label);
    }
    tokens.alice = await userToken(t, 'alice');
    tokens.bob = await userToken(t, 'bob');
    tokens.admin = await adminToken(t);
    // The first call of each subject bootstraps its oauth_users row; do it now so cells compare quiet databases.
    for (const credential of CREDENTIAL_NAMES) await send('GET', '/api/v1/auth/me', headersOf(credential));
    shared.A = await tenantFixture('A');
    shared.S = await tenantFixture('S');
  }, 120_000);

  afterAll(async () => {
    console.info(`matrix: ${tally.cells} cells checked, ${tally.failed} failed`);
    await t.close();
  });

  it('has an entry for every operation of /openapi.json, and an operation for every entry', () => {
    const documented = new Set(operations.map((op) => op.id));
    const missing = operations.map((op) => op.id).filter((id) => !(id in ROUTE_SPECS));
    const stale = Object.keys(ROUTE_SPECS).filter((id) => !documented.has(id));
    expect({ missing, stale }).toEqual({ missing: [], stale: [] });
    expect(operations.length).toBeGreaterThanOrEqual(40);
  });

  it('documents each route’s access class in its OpenAPI security (the decorators and the table agree)', () => {
    const drift = operations
      .filter((op) => ROUTE_SPECS[op.id])
      .filter((op) => [...op.security].sort().join(',') !== [...securityOf(ROUTE_SPECS[op.id].access)].sort().join(','))
      .map((op) => `${op.id}: ${op.security.join(',')} for ${ROUTE_SPECS[op.id].access}`);
    expect(drift).toEqual([]);
  });

  for (const op of operations) {
    it(`${op.id}`, { timeout: 120_000 }, async () => {
      const spec = ROUTE_SPECS[op.id];
      if (!spec) {
        record([`${op.id}: no route-specs entry`], CREDENTIAL_NAMES.length, CREDENTIAL_NAMES.length);
        expect.fail(`${op.id} has no entry in test/hardening/route-specs.ts`);
      }
      const cells = cellsOf(op, spec);
      const failures: string[] = [];
      let failedCells = 0;
      for (const cell of cells) {
        const cellFailures = await runCell(cell);
        if (cellFailures.length) failedCells++;
        failures.push(...cellFailures);
      }
      record(failures, cells.length, failedCells);
      expect(failures).toEqual([]);
    });
  }

  it('GET /metrics: only its own METRICS_TOKEN opens it, and no tenant id is in any label', async () => {
    const answer = await send('GET', '/metrics', { authorization: `Bearer ${METRICS_TOKEN}` });
    const failures: string[] = [];
    if (answer.status !== 200) failures.push(`status ${answer.status}`);
    for (const [marker, label] of markers) if (answer.text.includes(marker)) failures.push(`metrics leak ${label}'s ${marker}`);
    record(failures.map((failure) => `GET /metrics [metrics token] ${failure}`), 1, failures.length ? 1 : 0);
    expect(failures).toEqual([]);
  });
});
