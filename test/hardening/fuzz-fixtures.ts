import { createHmac, createPublicKey } from 'node:crypto';
import { generateKeyPair, importJWK, SignJWT, type JWTPayload } from 'jose';
import type { DataSource } from 'typeorm';
import { composeApiKey } from '../../src/api-keys/api-key-format.js';
import { DEV_SIGNING_KEY, DEV_SIGNING_KEY_ID } from '../../src/dev-idp/dev-signing-key.js';
import type { TestApp } from '../support/app.js';
import { adminToken, createApiKey, userToken, type IssuedKey } from '../support/auth.js';
import { award, call, createGame, createTask } from '../core/core-helpers.js';
import { withOwnKey } from './fuzz-arbitraries.js';
import type { FuzzContext, FuzzCredentials } from './fuzz-requests.js';

export interface Fixtures {
  context: FuzzContext;
  /** Every real credential sent: none of them may ever appear in the logs. */
  secrets: string[];
  /** Subjects of the `fresh` tokens: the only `oauth_users` rows (and bootstrap audit entries) a refused request may add. */
  freshSubjects: Set<string>;
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Tokens, keys and data for the fuzzer: a tenant per credential, a closed task, awards, a conversion. */
export async function buildFixtures(t: TestApp): Promise<Fixtures> {
  const expiresAt = new Date(Date.now() + 1500);
  const [writeKey, otherKey, readKey, spare1, spare2, spare3, revoked, expiring] = await Promise.all([
    createApiKey(t, { client: 'fuzz-write' }),
    createApiKey(t, { client: 'fuzz-other' }),
    createApiKey(t, { client: 'fuzz-read', scopes: ['read'] }),
    createApiKey(t, { client: 'fuzz-spare-1' }),
    createApiKey(t, { client: 'fuzz-spare-2' }),
    createApiKey(t, { client: 'fuzz-spare-3' }),
    createApiKey(t, { client: 'fuzz-revoked' }),
    createApiKey(t, { client: 'fuzz-expiring', expiresAt: expiresAt.toISOString() }),
  ]);
  const [admin, alice, bob] = await Promise.all([adminToken(t), userToken(t, 'alice'), userToken(t, 'bob')]);
  const revokedAnswer = await call(t, { token: admin }, 'DELETE', `/apikey/${revoked.prefix}`);
  if (revokedAnswer.status !== 200) throw new Error(`revoke: ${revokedAnswer.status}`);

  const a = { key: writeKey.key };
  const b = { key: otherKey.key };
  const gameA = await createGame(t, a, { params: [{ key: 'variable_basic_points', value: 2 }, { key: 'note', value: 'fixture' }] });
  const taskA1 = await createTask(t, a, gameA.gameId, { params: [{ key: 'variable_bonus_points', value: 5 }] });
  const taskA2 = await createTask(t, a, gameA.gameId, { status: 'closed' });
  const gameAlice = await createGame(t, { token: alice });
  const taskAlice = await createTask(t, { token: alice }, gameAlice.gameId);
  const gameB = await createGame(t, b, { strategyId: 'constantEffortStrategy' });
  const taskB = await createTask(t, b, gameB.gameId);
  for (const [caller, game, task, user] of [
    [a, gameA, taskA1, 'u1'],
    [a, gameA, taskA1, 'u1'],
    [a, gameA, taskA1, 'u2'],
    [{ token: alice }, gameAlice, taskAlice, 'alice'],
    [b, gameB, taskB, 'ub'],
  ] as const) {
    const answer = await award(t, caller, game.gameId, task.externalTaskId, { externalUserId: user });
    if (answer.status !== 201) throw new Error(`award: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  const action = await call(t, a, 'POST', `/games/${gameA.gameId}/tasks/${taskA1.externalTaskId}/action`, { typeAction: 'opened_app', externalUserId: 'u1' });
  if (action.status !== 201) throw new Error(`action: ${action.status}`);
  const convert = await call(t, a, 'POST', '/users/u1/convert', { points: 1 });
  if (convert.status !== 201) throw new Error(`convert: ${convert.status} ${JSON.stringify(convert.body)}`);

  const tokens = await tokenSet(t, writeKey);
  // Every pre-existing subject is bootstrapped now, so phase 2's per-request comparison sees no bootstrap.
  for (const token of [admin, alice, bob]) await call(t, { token }, 'GET', '/auth/me');
  // The expiring key must have expired before the fuzzing starts.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt.getTime() + 100 - Date.now())));

  const credentials: FuzzCredentials = {
    writeKey: writeKey.key,
    otherKey: otherKey.key,
    readKey: readKey.key,
    admin,
    alice,
    bob,
    fresh: tokens.fresh.map(([token]) => token),
    badKeys: badKeys(writeKey, revoked, expiring),
    badAuthorizations: [...GARBAGE_AUTHORIZATIONS(admin), ...tokens.forged.map((token) => `Bearer ${token}`)],
  };
  const pools: Record<string, unknown[]> = {
    gameId: [gameA.gameId, gameAlice.gameId, gameB.gameId],
    taskId: [taskA1.taskId, taskA2.taskId, taskAlice.taskId, taskB.taskId],
    externalTaskId: [taskA1.externalTaskId, taskA2.externalTaskId, taskAlice.externalTaskId, taskB.externalTaskId],
    externalUserId: ['u1', 'u2', 'alice', 'ub', 'nobody'],
    // API-key routes only ever name spare keys: a refused rotate or revoke that slipped through must not kill the fuzzer's own keys.
    prefix: [spare1.prefix, spare2.prefix, spare3.prefix, revoked.prefix, expiring.prefix],
    id: ['default', 'constantEffortStrategy', ...gameA.params.map((param: { id: string }) => param.id)],
    externalGameId: [gameA.externalGameId, gameB.externalGameId],
    strategyId: ['default', 'constantEffortStrategy', 'noSuchStrategy'],
    key: ['variable_basic_points', 'variable_bonus_points', 'variable_max_points', 'variable_constant_effort_interval_minutes', 'note'],
    tenant: [`key:${writeKey.prefix}`, `key:${otherKey.prefix}`, 'sub:alice', 'sub:nobody', 'key:qk_live_00000000'],
    points: [1, 2, 1_000_000],
    gracePeriodSeconds: [0, 60],
    expiresAt: ['2020-01-01T00:00:00Z', new Date(Date.now() + 86_400_000).toISOString()],
    scopes: [['read'], ['write'], ['read', 'write'], []],
  };
  const scenes: Array<Record<string, string>> = [
    { gameId: gameA.gameId, taskId: taskA1.taskId, externalTaskId: taskA1.externalTaskId, externalUserId: 'u1' },
    { gameId: gameA.gameId, taskId: taskA2.taskId, externalTaskId: taskA2.externalTaskId, externalUserId: 'u2' }, // closed task
    { gameId: gameAlice.gameId, taskId: taskAlice.taskId, externalTaskId: taskAlice.externalTaskId, externalUserId: 'alice' },
    { gameId: gameB.gameId, taskId: taskB.taskId, externalTaskId: taskB.externalTaskId, externalUserId: 'ub' },
    { prefix: spare1.prefix },
    { prefix: spare2.prefix },
    { id: 'default' },
    { id: 'constantEffortStrategy' },
  ];
  const keys = [writeKey, otherKey, readKey, spare1, spare2, spare3, revoked, expiring];
  const allTokens = [admin, alice, bob, ...credentials.fresh];
  return {
    context: { pools, scenes, credentials, bodyLimitBytes: t.config.bodyLimitBytes },
    secrets: [...keys.flatMap((issued) => [issued.key, issued.key.split('.')[1]]), ...allTokens.flatMap((token) => [token, token.split('.')[2]])],
    freshSubjects: new Set(tokens.fresh.map(([, subject]) => subject)),
  };
}

function flip(text: string, index: number): string {
  return text.slice(0, index) + (text[index] === 'A' ? 'B' : 'A') + text.slice(index + 1);
}

function badKeys(writeKey: IssuedKey, revoked: IssuedKey, expiring: IssuedKey): string[] {
  return [
    '',
    'qk_live_',
    'qk_live_3fA9kQ2z',
    writeKey.prefix,
    `${writeKey.prefix}.`,
    flip(writeKey.key, writeKey.key.length - 1), // bad checksum
    flip(writeKey.key, 20), // one secret character changed: the checksum no longer matches
    composeApiKey(writeKey.prefix, 'A'.repeat(32)), // right prefix, wrong secret, valid checksum
    composeApiKey('qk_live_ZZZZZZZZ', 'B'.repeat(32)), // unknown prefix, valid checksum
    'qk_live_3fA9kQ2z.Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op563TnRLN', // API.md's test vector: well formed, unknown
    'k'.repeat(8192),
    'qk_live_ключ1234.секретсекретсекретсекретсекрет', // non-ASCII (sent as UTF-8 bytes)
    writeKey.key.toLowerCase(),
    `${writeKey.key}x`,
    `Bearer ${writeKey.key}`,
    `${writeKey.key}, ${writeKey.key}`,
    writeKey.key.replace('.', ':'),
    "qk_live_' OR 1=1 --",
    `${writeKey.key}\tx`,
    revoked.key,
    expiring.key,
  ];
}

const GARBAGE_AUTHORIZATIONS = (admin: string) => [
  'Bearer',
  'Bearer ',
  'Bearer  x',
  'bearer',
  'Basic dXNlcjpwYXNz',
  `Basic ${'a'.repeat(8192)}`,
  `Bearer ${'a'.repeat(8192)}`,
  'Token abc',
  'Bearer x y',
  `Bearer\t${admin}`,
  `Bearer ${admin} ${admin}`,
  `Bearer ${admin.slice(0, -5)}`,
  'Bearer 😀',
  'Bearer é',
  'Negotiate YII=',
  'Bearer =',
  'Bearer a.b.c',
  'Bearer e30.e30.',
  'Bearer eyJhbGciOiJSUzI1NiJ9',
  `Bearer ${admin}.extra`,
  `Bearer ${b64({ alg: 'RS256', kid: 'x' })}.${'A'.repeat(6000)}.sig`,
];

/** A token signed with the embedded provider's key, with these claims over the usual ones. */
export async function devToken(t: TestApp, extra: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const key = await importJWK(DEV_SIGNING_KEY as never, 'RS256');
  const payload = { iss: t.config.oidcIssuer, aud: t.config.keycloakAudience, iat: now, exp: now + 3600, azp: 'questline-swagger', ...extra };
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: DEV_SIGNING_KEY_ID, typ: 'JWT' }).sign(key);
}

/** Signed and forged tokens: `fresh` are valid (new subjects, odd claims); `forged` are always refused. */
async function tokenSet(t: TestApp, writeKey: IssuedKey): Promise<{ fresh: Array<[string, string]>; forged: string[] }> {
  const issuer = t.config.oidcIssuer!;
  const audience = t.config.keycloakAudience;
  const devKey = await importJWK(DEV_SIGNING_KEY as never, 'RS256');
  const now = Math.floor(Date.now() / 1000);
  const header = { alg: 'RS256', kid: DEV_SIGNING_KEY_ID, typ: 'JWT' };
  const claims = (extra: Record<string, unknown>): JWTPayload => ({ iss: issuer, aud: audience, iat: now, exp: now + 3600, azp: 'questline-swagger', ...extra });
  const sign = (payload: JWTPayload, protectedHeader: Record<string, unknown> = header, key: CryptoKey | Uint8Array = devKey as CryptoKey) =>
    new SignJWT(payload).setProtectedHeader(protectedHeader as never).sign(key);

  const freshSpecs: Array<[Record<string, unknown>, string]> = [
    [{ sub: 'fuzz-fresh-1' }, 'fuzz-fresh-1'],
    [{ sub: 'fuzz-fresh-2', realm_access: { roles: ['AdministratorGAME'] } }, 'fuzz-fresh-2'],
    [{ sub: 'Ünïcødé-😀-fresh' }, 'Ünïcødé-😀-fresh'],
    [{ sub: '\u202Efresh-rtl' }, '\u202Efresh-rtl'],
    [{ sub: 'f'.repeat(300) }, 'f'.repeat(300)],
    [{ sub: 'nul\u0000fresh' }, 'nul\u0000fresh'],
    [{ sub: 'ctl\u0001\u001ffresh' }, 'ctl\u0001\u001ffresh'],
    [{ sub: ' padded fresh ' }, ' padded fresh '],
    [{ sub: 42, preferred_username: 'fresh-by-username' }, 'fresh-by-username'],
    [{ email: 'fresh@example.invalid', azp: undefined }, 'fresh@example.invalid'],
    [{ sub: "'; DROP TABLE oauth_users; --" }, "'; DROP TABLE oauth_users; --"],
    [{ sub: 'fresh-roles-string', realm_access: { roles: 'AdministratorGAME' } }, 'fresh-roles-string'],
    [{ sub: 'fresh-roles-weird', realm_access: { roles: [{}, 1, null, ['x'], 'Administrator-GAME'] }, resource_access: 'nope' }, 'fresh-roles-weird'],
    [{ sub: 'fresh-proto', resource_access: withOwnKey({}, '__proto__', { roles: ['AdministratorGAME'] }), realm_access: withOwnKey({}, '__proto__', { roles: ['x'] }) }, 'fresh-proto'],
    [{ sub: 'fresh-huge', blob: 'b'.repeat(5000) }, 'fresh-huge'],
    [{ sub: 'fresh-far-exp', exp: 2 ** 53 }, 'fresh-far-exp'],
    [{ sub: 'fresh-aud-array', aud: ['other', audience] }, 'fresh-aud-array'],
    [{ sub: 'fresh-long-username', preferred_username: 'u'.repeat(5000), email: 'e'.repeat(400) }, 'fresh-long-username'],
  ];
  const fresh: Array<[string, string]> = [];
  for (const [extra, subject] of freshSpecs) fresh.push([await sign(claims(extra)), subject]);

  const valid = await sign(claims({ sub: 'admin' }));
  const [head, , signature] = valid.split('.');
  const publicPem = createPublicKey({ key: DEV_SIGNING_KEY as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
  const hs256 = (() => {
    const input = `${b64({ alg: 'HS256', kid: DEV_SIGNING_KEY_ID, typ: 'JWT' })}.${b64(claims({ sub: 'admin', realm_access: { roles: ['AdministratorGAME'] } }))}`;
    return `${input}.${createHmac('sha256', publicPem).update(input).digest('base64url')}`;
  })();
  const stranger = await generateKeyPair('RS256');
  const { sub: _sub, azp: _azp, ...noSubject } = claims({});
  const { exp: _exp, ...noExp } = claims({ sub: 'fuzz-no-exp' });
  const forged = [
    `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims({ sub: 'admin', realm_access: { roles: ['AdministratorGAME'] } }))}.`,
    `${b64({ alg: 'none', kid: DEV_SIGNING_KEY_ID })}.${b64(claims({ sub: 'admin' }))}.${signature}`,
    hs256,
    `${head}.${b64(claims({ sub: 'mallory', realm_access: { roles: ['AdministratorGAME'] } }))}.${signature}`, // tampered payload
    `${valid.slice(0, -2)}${valid.endsWith('AA') ? 'BB' : 'AA'}`, // tampered signature
    await sign(claims({ sub: 'fuzz-expired', exp: now - 3600, iat: now - 7200 })),
    await sign(claims({ sub: 'fuzz-wrong-audience', aud: 'someone-else' })),
    await sign(claims({ sub: 'fuzz-wrong-issuer', iss: 'https://evil.example/realms/questline' })),
    await sign(noExp),
    await sign(noSubject),
    await sign(claims({ sub: 'fuzz-not-yet', nbf: now + 3600 })),
    await sign(claims({ sub: 'fuzz-unknown-kid' }), { ...header, kid: 'no-such-kid' }),
    await sign(claims({ sub: 'fuzz-numeric-kid' }), { ...header, kid: 123 }),
    await sign(claims({ sub: 'fuzz-stranger', realm_access: { roles: ['AdministratorGAME'] } }), header, stranger.privateKey as CryptoKey),
    await sign(claims({ sub: 'fuzz-rs512' }), { ...header, alg: 'RS512' }, (await importJWK({ ...DEV_SIGNING_KEY, alg: 'RS512' } as never, 'RS512')) as CryptoKey),
    await sign(claims({ sub: 'fuzz-exp-string', exp: String(now + 3600) as never })),
    `${b64({ alg: 'RS256', kid: DEV_SIGNING_KEY_ID })}.${b64('not json')}.${signature}`,
    `${b64({ alg: 'RS256', kid: { $ne: null } })}.${b64(claims({ sub: 'admin' }))}.${signature}`,
    `${b64({ alg: 'RS256', kid: '../../../../etc/passwd' })}.${b64(claims({ sub: 'admin' }))}.${signature}`,
    `${b64({ alg: 'RS256', kid: writeKey.prefix, jku: 'https://evil.example/jwks', x5u: 'https://evil.example/x5u' })}.${b64(claims({ sub: 'admin' }))}.${signature}`,
  ];
  return { fresh, forged };
}

// ------------------------------------------------------------------------------------------------------------
// Database snapshots

export async function publicTables(db: DataSource): Promise<Array<{ name: string; hasId: boolean }>> {
  const rows = (await db.query(
    `SELECT t.table_name AS name,
            EXISTS (SELECT 1 FROM information_schema.columns c WHERE c.table_schema = 'public' AND c.table_name = t.table_name AND c.column_name = 'id') AS "hasId"
       FROM information_schema.tables t
      WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE' AND t.table_name <> 'migrations'
      ORDER BY 1`,
  )) as Array<{ name: string; hasId: boolean }>;
  return rows;
}

/** `api_keys.last_used_at` is written off the request path by any request with a valid key, so it is left out. */
const VOLATILE = `- 'last_used_at'`;

/** Every row of every table, keyed by id (or by its own content when the table has no id column). */
export async function snapshotRows(db: DataSource, tables: Array<{ name: string; hasId: boolean }>): Promise<Map<string, Map<string, Record<string, unknown>>>> {
  const snapshot = new Map<string, Map<string, Record<string, unknown>>>();
  for (const table of tables) {
    const rows = (await db.query(
      `SELECT ${table.hasId ? 'x.id::text' : `md5((to_jsonb(x) ${VOLATILE})::text)`} AS k, (to_jsonb(x) ${VOLATILE}) AS r FROM "${table.name}" x`,
    )) as Array<{ k: string; r: Record<string, unknown> }>;
    snapshot.set(table.name, new Map(rows.map((row) => [row.k, row.r])));
  }
  return snapshot;
}

/** One digest per table (count + content), for the per-request comparison of phase 2. */
export async function tableDigests(db: DataSource, tables: Array<{ name: string }>): Promise<Record<string, string>> {
  const sql = tables
    .map(
      (table) =>
        `SELECT '${table.name}' AS t, count(*)::text || ':' || coalesce(md5(string_agg(h, ',' ORDER BY h)), '') AS d FROM (SELECT md5((to_jsonb(x) ${VOLATILE})::text) AS h FROM "${table.name}" x) s`,
    )
    .join(' UNION ALL ');
  const rows = (await db.query(sql)) as Array<{ t: string; d: string }>;
  return Object.fromEntries(rows.map((row) => [row.t, row.d]));
}
