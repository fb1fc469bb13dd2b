/**
 * The tenant-isolation matrix's route table (issue 8): how to exercise every operation of `/openapi.json`, and the rules
 * of API.md §1–§2 that give the status each credential must get. The expected status of a cell is computed by
 * {@link expectedOutcome} from the route's class and the credential — there is no literal table of statuses.
 *
 * A route that appears in `/openapi.json` without an entry here fails the matrix, and so does an entry without a route.
 */

/** Who may call a route (the decorator on it): `metrics` is outside the API credentials (its own `METRICS_TOKEN`). */
export type Access = 'public' | 'either' | 'oauth-only' | 'admin-only' | 'metrics';

/**
 * Whose data a route touches:
 * - `none`: no tenant data (health, discovery, strategies);
 * - `self`: answers from the caller's own namespace only (lists, `/auth/me`, dashboard, points query, create game);
 * - `game`: a game of the target tenant — another owner gets 403, an admin passes (API.md §2);
 * - `user`: `/users/{externalUserId}/…` of an existing user, looked up in the caller's own namespace — another tenant
 *   gets 404 `Not found externalUserId : {x}`, an admin names the target namespace with `?tenant=`;
 * - `user-create`: as `user`, but the route creates the user when new, so another tenant writes into its own namespace
 *   (201) and the target's user must stay untouched;
 * - `subject`: the simulation — subject-bound (`externalUserId` must be the token subject, admins included) and
 *   game-scoped;
 * - `admin`: admin data (API keys, audit, exports).
 */
export type Scope = 'none' | 'self' | 'game' | 'user' | 'user-create' | 'subject' | 'admin';

export type Kind = 'read' | 'write' | 'delete';

export type CredentialName = 'ownerKey' | 'otherKey' | 'readOnlyKey' | 'ownerSubject' | 'otherSubject' | 'admin' | 'none';

export type TenantTag = 'A' | 'S';

export interface CredentialTraits {
  key?: 'read-write' | 'read-only';
  bearer?: 'user' | 'admin';
  subject?: string;
  /** Whose resources the credential is pointed at: tenant A (key-owned) or S (subject-owned). */
  target: TenantTag;
  /** The credential is the owner of its target. */
  owner: boolean;
}

/** The seven credentials of the matrix. Keys and the admin aim at A's resources, subjects at S's (owned by alice). */
export const CREDENTIALS: Record<CredentialName, CredentialTraits> = {
  ownerKey: { key: 'read-write', target: 'A', owner: true },
  otherKey: { key: 'read-write', target: 'A', owner: false },
  readOnlyKey: { key: 'read-only', target: 'A', owner: false },
  ownerSubject: { bearer: 'user', subject: 'alice', target: 'S', owner: true },
  otherSubject: { bearer: 'user', subject: 'bob', target: 'S', owner: false },
  admin: { bearer: 'admin', subject: 'admin', target: 'A', owner: false },
  none: { target: 'A', owner: false },
};

/** One tenant's seeded data: a game with a task, a user with awards and a wallet with a balance. */
export interface TenantFixture {
  tag: TenantTag;
  /** `games.owner` / `users.owner` of the tenant. */
  owner: string;
  gameId: string;
  externalGameId: string;
  platform: string;
  taskId: string;
  externalTaskId: string;
  externalUserId: string;
  awardIds: string[];
}

export interface CellContext {
  credential: CredentialName;
  traits: CredentialTraits;
  target: TenantFixture;
  /** Tenant A's key prefix (an admin names A's namespace with `?tenant=key:<prefix>`). */
  ownerKeyPrefix: string;
  /** A key issued for this cell alone (routes with `fresh: 'apiKey'`). */
  freshKeyPrefix?: string;
  /** On routes with `?tenant=`: the request names the target's namespace (an admin's way in; anyone else's is refused). */
  namesTenant: boolean;
  unique(): string;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

export interface RouteSpec {
  kind: Kind;
  access: Access;
  scope: Scope;
  /** Status of an allowed call. */
  ok: number;
  /** Admin-only routes: the 403 `detail` a non-admin bearer gets. */
  forbiddenDetail?: string;
  /**
   * Destructive cells get their own fixture so the order of cells never matters: `tenant` = a fresh game, task, user
   * with awards and wallet of the target tenant; `apiKey` = a fresh API key. Default: `tenant` for every write or
   * delete on a game or a user, none otherwise.
   */
  fresh?: 'tenant' | 'apiKey' | false;
  /** Path parameters beyond the defaults ({@link defaultParam}). */
  params?: (c: CellContext) => Record<string, string>;
  query?: (c: CellContext) => Record<string, string>;
  body?: (c: CellContext) => unknown;
  /** Extra checks on an allowed answer: a failure message, or nothing. */
  check?: (c: CellContext, answer: Answer) => string | undefined;
}

const u = (c: CellContext) => c.unique();
const sum = (series: Array<{ count: number }>) => series.reduce((total, bucket) => total + bucket.count, 0);

const KEYS = {
  create: 'You do not have permission to create an API key',
  list: 'You do not have permission to get all API keys',
  revoke: 'You do not have permission to revoke an API key',
} as const;
const AUDIT_FORBIDDEN = 'You do not have permission to read the audit log';
const EXPORT_FORBIDDEN = 'Data exports require an authenticated administrator.';

const adminRead = (forbiddenDetail: string, extra: Partial<RouteSpec> = {}): RouteSpec => ({
  kind: 'read',
  access: 'admin-only',
  scope: 'admin',
  ok: 200,
  forbiddenDetail,
  ...extra,
});
const gameRead = (extra: Partial<RouteSpec> = {}): RouteSpec => ({ kind: 'read', access: 'either', scope: 'game', ok: 200, ...extra });
const publicRead = (extra: Partial<RouteSpec> = {}): RouteSpec => ({ kind: 'read', access: 'public', scope: 'none', ok: 200, ...extra });

/** Dashboard series of the read-only key's namespace must be empty: it never wrote anything. */
const emptyForStrangers =
  (series: (body: any) => Array<Array<{ count: number }>>, owned: (body: any) => number) =>
  (c: CellContext, answer: Answer): string | undefined => {
    if (c.credential === 'readOnlyKey' && series(answer.body).some((s) => sum(s) !== 0)) return `a stranger sees counts: ${answer.text}`;
    if (c.traits.owner && owned(answer.body) === 0) return `the owner sees none of its own data: ${answer.text}`;
    return undefined;
  };

export const ROUTE_SPECS: Record<string, RouteSpec> = {
  // Discovery and health (public).
  'GET /health': publicRead(),
  'GET /health/ready': publicRead(),
  'GET /api/v1/kpi/health_check': publicRead(),
  'GET /.well-known/oauth-protected-resource': publicRead(),
  'GET /api/v1/strategies': publicRead(),
  'GET /api/v1/strategies/{id}': publicRead({ params: () => ({ id: 'default' }) }),
  'GET /api/v1/strategies/{id}/schema': publicRead({ params: () => ({ id: 'constantEffortStrategy' }) }),
  'GET /metrics': { kind: 'read', access: 'metrics', scope: 'none', ok: 200 },

  // Who am I (either credential, the caller's own identity).
  'GET /api/v1/auth/me': {
    kind: 'read',
    access: 'either',
    scope: 'self',
    ok: 200,
    check: (c, answer) => {
      const kind = c.traits.key ? 'apiKey' : 'oauth';
      if (answer.body.kind !== kind) return `kind ${answer.body.kind}, expected ${kind}`;
      if (answer.body.isAdmin !== (c.traits.bearer === 'admin')) return `isAdmin ${answer.body.isAdmin}`;
      return undefined;
    },
  },

  // API keys, audit and exports (admin bearer only).
  'POST /api/v1/apikey/create': {
    kind: 'write',
    access: 'admin-only',
    scope: 'admin',
    ok: 201,
    forbiddenDetail: KEYS.create,
    body: (c) => ({ client: `matrix-${u(c)}`, description: 'issued by a matrix cell' }),
  },
  'GET /api/v1/apikey': adminRead(KEYS.list),
  'DELETE /api/v1/apikey/{prefix}': {
    kind: 'delete',
    access: 'admin-only',
    scope: 'admin',
    ok: 200,
    forbiddenDetail: KEYS.revoke,
    fresh: 'apiKey',
    params: (c) => ({ prefix: c.freshKeyPrefix! }),
  },
  'POST /api/v1/apikey/{prefix}/rotate': {
    kind: 'write',
    access: 'admin-only',
    scope: 'admin',
    ok: 200,
    forbiddenDetail: KEYS.revoke,
    fresh: 'apiKey',
    params: (c) => ({ prefix: c.freshKeyPrefix! }),
    body: () => ({ gracePeriodSeconds: 0 }),
  },
  'GET /api/v1/audit': adminRead(AUDIT_FORBIDDEN),
  'GET /api/v1/exports/history': adminRead(EXPORT_FORBIDDEN),
  'GET /api/v1/exports/{dataset}': adminRead(EXPORT_FORBIDDEN, {
    params: () => ({ dataset: 'users' }),
    query: () => ({ format: 'json', limit: '1000' }),
    check: (c, answer) => (answer.text.includes(c.target.externalUserId) ? undefined : 'the admin export lacks the target user'),
  }),

  // Dashboard (either credential, scoped to the caller's namespace).
  'GET /api/v1/dashboard/summary': {
    kind: 'read',
    access: 'either',
    scope: 'self',
    ok: 200,
    check: emptyForStrangers(
      (body) => [body.new_users, body.games_opened, body.points_earned, body.actions_performed],
      (body) => sum(body.points_earned),
    ),
  },
  'GET /api/v1/dashboard/summary/logs': {
    kind: 'read',
    access: 'either',
    scope: 'self',
    ok: 200,
    check: emptyForStrangers(
      (body) => [body.info, body.warning, body.error],
      (body) => body.totals.info,
    ),
  },

  // Games.
  'GET /api/v1/games': {
    kind: 'read',
    access: 'either',
    scope: 'self',
    ok: 200,
    query: () => ({ page_size: '100' }),
    check: (c, answer) => {
      const ids = (answer.body.items as Array<{ gameId: string }>).map((game) => game.gameId);
      const sees = ids.includes(c.target.gameId);
      const shouldSee = c.traits.owner || c.traits.bearer === 'admin';
      return sees === shouldSee ? undefined : `target game listed: ${sees}, expected ${shouldSee}`;
    },
  },
  'POST /api/v1/games': {
    kind: 'write',
    access: 'either',
    scope: 'self',
    ok: 201,
    body: (c) => ({ externalGameId: `new_${u(c)}`, platform: 'web' }),
  },
  'GET /api/v1/games/{gameId}': gameRead(),
  'PATCH /api/v1/games/{gameId}': { kind: 'write', access: 'either', scope: 'game', ok: 200, body: (c) => ({ platform: `patched_${u(c)}` }) },
  'DELETE /api/v1/games/{gameId}': { kind: 'delete', access: 'either', scope: 'game', ok: 200 },
  'POST /api/v1/games/{gameId}/duplicate': {
    kind: 'write',
    access: 'either',
    scope: 'game',
    ok: 201,
    body: (c) => ({ externalGameId: `copy_${u(c)}` }),
  },
  'GET /api/v1/games/{gameId}/strategy': gameRead(),
  'GET /api/v1/games/{gameId}/users': gameRead(),

  // Tasks.
  'POST /api/v1/games/{gameId}/tasks': { kind: 'write', access: 'either', scope: 'game', ok: 201, body: (c) => ({ externalTaskId: `task_${u(c)}` }) },
  'GET /api/v1/games/{gameId}/tasks': gameRead(),
  'POST /api/v1/games/{gameId}/tasks/bulk': {
    kind: 'write',
    access: 'either',
    scope: 'game',
    ok: 200,
    body: (c) => ({ tasks: [{ externalTaskId: `bulk_${u(c)}` }, { externalTaskId: `bulk_${u(c)}` }] }),
  },
  'GET /api/v1/games/{gameId}/tasks/{externalTaskId}': gameRead(),
  'PATCH /api/v1/games/{gameId}/tasks/{taskId}': { kind: 'write', access: 'either', scope: 'game', ok: 200, body: () => ({ status: 'closed' }) },
  'DELETE /api/v1/games/{gameId}/tasks/{taskId}': { kind: 'delete', access: 'either', scope: 'game', ok: 200 },
  'POST /api/v1/games/{gameId}/tasks/{taskId}/duplicate': {
    kind: 'write',
    access: 'either',
    scope: 'game',
    ok: 201,
    body: (c) => ({ externalTaskId: `dup_${u(c)}` }),
  },

  // Points and actions on a game.
  'POST /api/v1/games/{gameId}/tasks/{externalTaskId}/points': {
    kind: 'write',
    access: 'either',
    scope: 'game',
    ok: 201,
    body: (c) => ({ externalUserId: c.target.externalUserId }),
  },
  'POST /api/v1/games/{gameId}/tasks/{externalTaskId}/action': {
    kind: 'write',
    access: 'either',
    scope: 'game',
    ok: 201,
    body: (c) => ({ typeAction: 'clicked', externalUserId: c.target.externalUserId }),
  },
  'GET /api/v1/games/{gameId}/points': gameRead(),
  'GET /api/v1/games/{gameId}/points/details': gameRead(),
  'GET /api/v1/games/{gameId}/users/{externalUserId}/points': gameRead(),
  'GET /api/v1/games/{gameId}/tasks/{externalTaskId}/points': gameRead(),
  'GET /api/v1/games/{gameId}/tasks/{externalTaskId}/points/details': gameRead(),
  'GET /api/v1/games/{gameId}/tasks/{externalTaskId}/users/{externalUserId}/points': gameRead(),
  'GET /api/v1/games/{gameId}/users/{externalUserId}/points/simulated': {
    kind: 'read',
    access: 'oauth-only',
    scope: 'subject',
    ok: 200,
    // Subject-bound: each bearer asks for itself; the mismatched subject is an extra cell of the matrix.
    params: (c) => ({ externalUserId: c.traits.subject ?? c.target.externalUserId }),
  },

  // Users and wallets (the caller's namespace).
  'POST /api/v1/users/points/query': {
    kind: 'read', // a read, but sent as POST: the read-only key is refused like on any write (API.md §1)
    access: 'either',
    scope: 'self',
    ok: 200,
    body: (c) => [c.target.externalUserId, `ghost_${u(c)}`],
    check: (c, answer) => {
      const sees = c.traits.owner || (c.traits.bearer === 'admin' && c.namesTenant);
      const [first, ghost] = answer.body as Array<{ userExists: boolean; points: number }>;
      if (first.userExists !== sees || (!sees && first.points !== 0)) return `target user seen: ${JSON.stringify(first)}`;
      return ghost.userExists ? 'a ghost user exists' : undefined;
    },
  },
  'GET /api/v1/users/{externalUserId}/points': { kind: 'read', access: 'either', scope: 'user', ok: 200 },
  'GET /api/v1/users/{externalUserId}/wallet': {
    kind: 'read',
    access: 'either',
    scope: 'user',
    ok: 200,
    check: (_c, answer) => (answer.body.wallet.pointsBalance > 0 ? undefined : `empty wallet: ${answer.text}`),
  },
  'GET /api/v1/users/{externalUserId}/convert/preview': {
    kind: 'read',
    access: 'either',
    scope: 'user',
    ok: 200,
    query: () => ({ points: '1' }),
  },
  'POST /api/v1/users/{externalUserId}/convert': { kind: 'write', access: 'either', scope: 'user', ok: 201, body: () => ({ points: 1 }) },
  'POST /api/v1/users/{externalUserId}/actions': {
    kind: 'write',
    access: 'either',
    scope: 'user-create',
    ok: 201,
    body: () => ({ typeAction: 'opened_app', description: 'matrix' }),
  },
};

/** The usual fill of a path parameter, by name, from the cell's target. */
export function defaultParam(name: string, c: CellContext): string | undefined {
  const t = c.target;
  return ({ gameId: t.gameId, taskId: t.taskId, externalTaskId: t.externalTaskId, externalUserId: t.externalUserId } as Record<string, string>)[name];
}

export function freshOf(spec: RouteSpec): 'tenant' | 'apiKey' | false {
  if (spec.fresh !== undefined) return spec.fresh;
  return spec.kind !== 'read' && ['game', 'user', 'user-create', 'subject'].includes(spec.scope) ? 'tenant' : false;
}

export const DETAIL = {
  noCredentials: 'Invalid authentication credentials',
  bearerRequired: 'This endpoint requires a bearer token.',
  writeScope: 'API key does not have the write scope.',
  gameForbidden: 'You do not have permission to access this game',
  subjectMismatch: 'You are not authorized to access this resource.',
  userForbidden: 'You do not have permission to access this user',
  userNotFound: (x: string) => `Not found externalUserId : ${x}`,
} as const;

export interface Expected {
  status: number;
  /** The exact problem `detail`, when the contract gives one. */
  detail?: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * The status the rules give (API.md §1–§2, order of checks: credentials → key scope → … → game exists → game in scope),
 * from the route's class and the credential only. `params` are the filled path parameters (404 texts echo them).
 * `namesTenant`: the request names the target's namespace with `?tenant=` (routes that take it): an admin acts there,
 * the owner may name its own, anyone else is refused with 403 (API.md §2); without it, `/users/…` routes use the
 * caller's own namespace.
 */
export function expectedOutcome(
  method: string,
  spec: RouteSpec,
  credential: CredentialName,
  params: Record<string, string>,
  namesTenant = false,
): Expected {
  const c = CREDENTIALS[credential];
  const ok = { status: spec.ok };
  // `/metrics` reads no API credential: without its own METRICS_TOKEN every caller is refused.
  if (spec.access === 'metrics') return { status: 401 };
  // 1. Credentials.
  if (spec.access !== 'public' && !c.key && !c.bearer) return { status: 401, detail: DETAIL.noCredentials };
  if ((spec.access === 'oauth-only' || spec.access === 'admin-only') && !c.bearer) return { status: 401, detail: DETAIL.bearerRequired };
  // 2. Key scope.
  if (c.key === 'read-only' && !SAFE_METHODS.has(method)) return { status: 403, detail: DETAIL.writeScope };
  if (spec.access === 'public') return ok;
  if (spec.access === 'admin-only' && c.bearer !== 'admin') return { status: 403, detail: spec.forbiddenDetail };
  const allowed = c.owner || c.bearer === 'admin';
  if (namesTenant && !allowed) return { status: 403, detail: DETAIL.userForbidden };
  switch (spec.scope) {
    case 'none':
    case 'self':
    case 'admin':
    case 'user-create':
      return ok;
    case 'game':
      return allowed ? ok : { status: 403, detail: DETAIL.gameForbidden };
    case 'user':
      // `/users/…` routes use the caller's own namespace; an admin reaches another one only by naming it.
      return c.owner || (c.bearer === 'admin' && namesTenant) ? ok : { status: 404, detail: DETAIL.userNotFound(params.externalUserId) };
    case 'subject':
      if (params.externalUserId !== c.subject) return { status: 403, detail: DETAIL.subjectMismatch };
      return allowed ? ok : { status: 403, detail: DETAIL.gameForbidden };
  }
}

/** What the OpenAPI security of a route must say for its access class (CONVENTIONS.md §2: docs can't drift). */
export function securityOf(access: Access): string[] {
  switch (access) {
    case 'public':
      return ['{}'];
    case 'metrics':
      return ['{}', 'bearer'];
    case 'either':
      return ['api-key', 'oauth2', 'bearer'];
    case 'oauth-only':
    case 'admin-only':
      return ['oauth2', 'bearer'];
  }
}
