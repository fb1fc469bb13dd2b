import fc from 'fast-check';
import {
  deepArray,
  deepObject,
  garbageId,
  hostileValue,
  invalidQueryValue,
  invalidValue,
  nastyString,
  pathValue,
  queryValue,
  RawJson,
  toJsonText,
  validValue,
  withOwnKey,
  type FuzzOperation,
  type Schema,
  type ValueContext,
} from './fuzz-arbitraries.js';
import { clientRefuses, headerSafe, oversizedHeaders, type FuzzRequest } from './fuzz-http.js';

/** The credentials the fuzzer mixes into requests. */
export interface FuzzCredentials {
  writeKey: string;
  otherKey: string;
  readKey: string;
  admin: string;
  alice: string;
  bob: string;
  /** Valid, signed tokens of subjects the app hasn't seen: their bootstrap is the one allowed write of a refused request. */
  fresh: string[];
  /** X-API-Key values that are always refused (malformed, bad checksum, unknown, revoked, expired, 8 KiB, non-ASCII…). */
  badKeys: string[];
  /** Authorization values that are always refused (garbage, alg none, bad signature, expired, wrong audience…). */
  badAuthorizations: string[];
}

export interface FuzzContext extends ValueContext {
  credentials: FuzzCredentials;
  /** Path values that belong together (a game, one of its tasks, a user with awards in it). */
  scenes: Array<Record<string, string>>;
  bodyLimitBytes: number;
}

/** A request before its sequence number and correlation id are assigned. */
export type Draft = Omit<FuzzRequest, 'seq'>;

type Headers = Array<[string, string]>;

interface CredentialChoice {
  headers: Headers;
  label: string;
}

const key = (value: string): [string, string] => ['X-API-Key', value];
const authorization = (value: string): [string, string] => ['Authorization', value];

function validCredentials(context: FuzzContext, allowFresh: boolean): fc.Arbitrary<CredentialChoice> {
  const c = context.credentials;
  const choices: CredentialChoice[] = [
    { headers: [], label: 'none' },
    { headers: [key(c.writeKey)], label: 'write key' },
    { headers: [key(c.writeKey)], label: 'write key' },
    { headers: [key(c.otherKey)], label: 'other tenant key' },
    { headers: [key(c.readKey)], label: 'read-only key' },
    { headers: [authorization(`Bearer ${c.admin}`)], label: 'admin' },
    { headers: [authorization(`Bearer ${c.admin}`)], label: 'admin' },
    { headers: [authorization(`Bearer ${c.alice}`)], label: 'alice' },
    { headers: [authorization(`Bearer ${c.bob}`)], label: 'bob' },
    { headers: [key(c.writeKey), authorization(`Bearer ${c.admin}`)], label: 'write key + admin' },
    { headers: [key(c.writeKey), authorization(`Bearer ${c.alice}`)], label: 'write key + alice' },
  ];
  const base = fc.constantFrom(...choices);
  if (!allowFresh || c.fresh.length === 0) return base;
  const fresh = fc.constantFrom(...c.fresh).map((token) => ({ headers: [authorization(`Bearer ${token}`)], label: 'fresh subject' }));
  return fc.oneof({ weight: 12, arbitrary: base }, { weight: 1, arbitrary: fresh });
}

/** Credentials certain to be refused on this (protected) operation. */
function refusedCredentials(operation: FuzzOperation, context: FuzzContext): fc.Arbitrary<CredentialChoice> {
  const c = context.credentials;
  const goodKey = fc.constantFrom(c.writeKey, c.otherKey);
  const goodToken = fc.constantFrom(c.admin, c.alice, c.bob);
  const options: Array<fc.Arbitrary<CredentialChoice>> = [
    fc.constant({ headers: [], label: 'no credential' }),
    fc.constantFrom(...c.badKeys).map((value) => ({ headers: [key(value)], label: 'bad key' })),
    fc.tuple(fc.constantFrom(...c.badKeys), goodToken).map(([value, token]) => ({ headers: [key(value), authorization(`Bearer ${token}`)], label: 'bad key + good token' })),
    fc.constantFrom(...c.badAuthorizations).map((value) => ({ headers: [authorization(value)], label: 'bad authorization' })),
    fc.tuple(goodKey, fc.constantFrom(...c.badAuthorizations)).map(([value, auth]) => ({ headers: [key(value), authorization(auth)], label: 'good key + bad authorization' })),
    goodKey.map((value) => ({ headers: [key(value), key(value)], label: 'duplicated X-API-Key' })),
    fc.tuple(goodKey, fc.constantFrom(...c.badKeys)).map(([good, bad]) => ({ headers: [key(good), key(bad)], label: 'X-API-Key twice, second bad' })),
  ];
  if (operation.write) {
    options.push(fc.constant({ headers: [key(c.readKey)], label: 'read-only key on a write' }));
    options.push(goodToken.map((token) => ({ headers: [key(c.readKey), authorization(`Bearer ${token}`)], label: 'read-only key + token on a write' })));
  }
  if (!operation.acceptsApiKey) options.push(goodKey.map((value) => ({ headers: [key(value)], label: 'API key alone on a bearer-only route' })));
  return fc.oneof(...options);
}

// ------------------------------------------------------------------------------------------------------------

interface BodyPlan {
  body?: Buffer;
  contentType?: string | null;
  mayDrop?: boolean;
  note: string;
}

const json = (value: unknown, note: string, contentType: string | null = 'application/json'): BodyPlan => ({
  body: Buffer.from(toJsonText(value), 'utf8'),
  contentType,
  note,
});

const MALFORMED_JSON: Array<string | Buffer> = [
  '{',
  '{"externalGameId": ',
  '{"a":1,}',
  "{'a':1}",
  '[1,2',
  'NaN',
  'undefined',
  '{"a":1}garbage',
  '{"a":1}{"b":2}',
  '',
  '   ',
  '{"a":"\\x41"}',
  '{"a":"\\ud800"', // truncated after an escape
  '{"a":01}',
  '{"a":.5}',
  '{"a":+1}',
  '{"a":Infinity}',
  '{"a":1e}',
  '\u0000{}',
  '{"__proto__":{"polluted":true}}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  '{"a":{"__proto__":{"polluted":true}}}',
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]), // invalid UTF-8 inside a string
  Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]), // UTF-16 with BOM
  `${'['.repeat(100_000)}`, // unterminated deep nesting
];

const WRONG_CONTENT_TYPES: Array<string | null> = [
  'text/plain',
  'multipart/form-data; boundary=fuzz',
  'application/x-www-form-urlencoded',
  'application/xml',
  'application/octet-stream',
  'application/problem+json',
  'image/png',
  'application/json-patch+json',
  ';;;',
  'application/json\u00e9', // non-ASCII in the media type (sent as latin1)
  null, // a body with no content type at all
];

/** The request body: valid, lightly or heavily mutated, or carrying a defect that the request must be refused for. */
function bodyPlan(operation: FuzzOperation, context: FuzzContext, defect: string | undefined): fc.Arbitrary<BodyPlan> {
  const schema = operation.body;
  if (!schema) {
    if (operation.method === 'GET') {
      return fc.oneof(
        { weight: 30, arbitrary: fc.constant<BodyPlan>({ note: '' }) },
        { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((value) => json(value, 'GET with a body')) },
      );
    }
    return fc.oneof(
      { weight: 10, arbitrary: fc.constant<BodyPlan>({ note: '' }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((value) => json(value, 'unexpected body')) },
    );
  }
  switch (defect) {
    case 'body': {
      const invalid = invalidValue(schema, context)!;
      return invalid.map((entry) => json(entry.value, `invalid body (${entry.why})`));
    }
    case 'malformed-json':
      return fc.constantFrom(...MALFORMED_JSON).map((text) => ({
        body: Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'),
        contentType: 'application/json',
        note: 'malformed JSON',
      }));
    case 'content-type':
      return fc.tuple(validValue(schema, context), fc.constantFrom(...WRONG_CONTENT_TYPES)).map(([value, contentType]) => json(value, `content-type ${String(contentType)}`, contentType));
    case 'missing-body':
      return fc.constantFrom<BodyPlan>({ note: 'no body' }, { note: 'no body, json content-type', contentType: 'application/json' });
    case 'oversize-body':
      return fc.constant<BodyPlan>({
        body: Buffer.from(JSON.stringify({ blob: 'x'.repeat(context.bodyLimitBytes + 1024) })),
        contentType: 'application/json',
        mayDrop: true,
        note: 'body over the limit',
      });
    default:
      return fc.oneof(
        { weight: 5, arbitrary: validValue(schema, context).map((value) => json(value, 'valid body', jsonContentType())) },
        { weight: 4, arbitrary: mutatedBody(schema, context).map(([value, why]) => json(value, why)) },
      );
  }
}

let contentTypeTurn = 0;
/** Accepted spellings of the JSON media type, in turn. */
function jsonContentType(): string {
  const spellings = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/json;charset=UTF-8'];
  return spellings[contentTypeTurn++ % spellings.length];
}

/** A valid body with one field replaced by a hostile value, one field dropped, or a pollution key added (may still be valid). */
function mutatedBody(schema: Schema, context: ValueContext): fc.Arbitrary<[unknown, string]> {
  const base = validValue(schema, context);
  if (!schema.properties) {
    return fc.oneof(
      hostileValue(schema, context).map((value): [unknown, string] => [value, 'hostile body']),
      fc.constantFrom<unknown>(deepArray(1000), deepObject(1000), {}, []).map((value): [unknown, string] => [value, 'structural body']),
    );
  }
  const properties = Object.entries(schema.properties);
  return fc.oneof(
    fc.tuple(base, fc.integer({ min: 0, max: properties.length - 1 })).chain(([value, index]) => {
      const [name, property] = properties[index];
      return hostileValue(property, context, name).map((hostile): [unknown, string] => [{ ...(value as object), [name]: hostile }, `hostile ${name}`]);
    }),
    fc.tuple(base, fc.constantFrom('__proto__', 'constructor', 'prototype')).map(([value, name]): [unknown, string] => [
      withOwnKey(value as Record<string, unknown>, name, { polluted: true, prototype: { polluted: true } }),
      `pollution key ${name}`,
    ]),
    fc.constantFrom<unknown>(deepArray(1000), deepObject(1000), [], [{}], 'text', 42, null).map((value): [unknown, string] => [value, 'top-level wrong type']),
  );
}

// ------------------------------------------------------------------------------------------------------------

const UNKNOWN_QUERY: Array<[string, string]> = [
  ['owner', 'x'],
  ['__proto__', '1'],
  ['__proto__[polluted]', 'true'],
  ['constructor[prototype][polluted]', 'true'],
  ['a[b]', 'c'],
  ['isAdmin', 'true'],
  ['', 'empty-name'],
  ['😀', 'emoji'],
];

interface QueryPlan {
  entries: Array<[string, string]>;
  note: string;
}

function queryPlan(operation: FuzzOperation, context: FuzzContext, hostile: boolean, defect: string | undefined): fc.Arbitrary<QueryPlan> {
  const perParameter = operation.queryParams.map((parameter) => {
    const schema = parameter.schema ?? {};
    const value = queryValue(schema, context, parameter.name, hostile);
    const required = parameter.required === true;
    return fc
      .oneof(
        { weight: required ? 0 : 3, arbitrary: fc.constant<string[]>([]) },
        { weight: 6, arbitrary: value.map((item) => [item]) },
        { weight: hostile ? 1 : 0, arbitrary: fc.tuple(value, value).map(([first, second]) => [first, second]) }, // repeated
      )
      .map((values) => values.map((item): [string, string] => [parameter.name, item]));
  });
  const extras = hostile
    ? fc.oneof({ weight: 8, arbitrary: fc.constant<Array<[string, string]>>([]) }, { weight: 1, arbitrary: fc.constantFrom(...UNKNOWN_QUERY).map((entry) => [entry]) })
    : fc.constant<Array<[string, string]>>([]);
  const base = fc.tuple(fc.tuple(...perParameter), extras).map(([lists, extra]) => ({ entries: [...lists.flat(), ...extra], note: '' }));
  if (defect === 'query') {
    const breakable = operation.queryParams
      .map((parameter) => [parameter.name, invalidQueryValue(parameter.schema ?? {})] as const)
      .filter((entry): entry is readonly [string, fc.Arbitrary<{ value: string; why: string }>] => entry[1] !== null);
    return fc.tuple(base, fc.integer({ min: 0, max: breakable.length - 1 })).chain(([plan, index]) => {
      const [name, invalid] = breakable[index];
      return invalid.map((entry) => ({ entries: [...plan.entries.filter(([key]) => key !== name), [name, entry.value] as [string, string]], note: `${name}: ${entry.why}` }));
    });
  }
  if (defect === 'missing-query') {
    const required = operation.queryParams.filter((parameter) => parameter.required).map((parameter) => parameter.name);
    return base.map((plan) => ({ entries: plan.entries.filter(([name]) => !required.includes(name)), note: `missing required query ${required.join(',')}` }));
  }
  return base;
}

/** A lone surrogate can't be sent as UTF-8: it goes out as U+FFFD, as any client would send it. */
const encode = (value: string) => encodeURIComponent((value as string & { toWellFormed(): string }).toWellFormed());

function encodeQuery(entries: Array<[string, string]>): string {
  if (entries.length === 0) return '';
  return `?${entries.map(([name, value]) => `${encode(name)}=${encode(value)}`).join('&')}`;
}

/** Path segments as a client would encode them, and a few raw spellings the router has to cope with. */
const RAW_SEGMENTS = ['%ZZ', '%', '%00', '%2e%2e', '..', '.', '%2F', 'a%2Fb', '%E0%A4%A', '%C0%AE%C0%AE', '%uD83D'];

function pathPlan(operation: FuzzOperation, context: FuzzContext, hostile: boolean, defect: string | undefined): fc.Arbitrary<{ path: string; note: string }> {
  const names = operation.pathParams.map((parameter) => parameter.name);
  if (names.length === 0) return fc.constant({ path: operation.template, note: '' });
  const known = (name: string) => {
    const schema = operation.pathParams.find((parameter) => parameter.name === name)?.schema ?? {};
    const fromSchema = [...(schema.enum ?? []), ...(schema.example !== undefined ? [schema.example] : [])];
    return (context.pools[name] ?? fromSchema).map(String);
  };
  const perName = names.map((name) => {
    if (!hostile) return fc.oneof({ weight: 17, arbitrary: fc.constantFrom(...(known(name).length > 0 ? known(name) : ['x'])) }, { weight: 2, arbitrary: fc.uuid() }, { weight: 1, arbitrary: garbageId });
    return pathValue(known(name));
  });
  const raw = hostile
    ? fc.oneof({ weight: 20, arbitrary: fc.constant<string | null>(null) }, { weight: 1, arbitrary: fc.constantFrom(...RAW_SEGMENTS) })
    : fc.constant<string | null>(null);
  const broken = defect === 'path' ? fc.tuple(fc.integer({ min: 0, max: names.length - 1 }), garbageId).map(([index, value]) => ({ index, value })) : fc.constant(null);
  // Most of the time the path names one consistent fixture (a game, its task, a user of it), so the request gets
  // past the lookups to the rule it is meant to exercise; otherwise each parameter is drawn on its own.
  const sceneNames = context.scenes.filter((scene) => names.some((name) => name in scene));
  const scene = sceneNames.length > 0 ? fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 3, arbitrary: fc.constantFrom(...sceneNames) }) : fc.constant(null);
  return fc.tuple(fc.tuple(...perName), raw, broken, scene).map(([drawn, rawSegment, brokenEntry, chosenScene]) => {
    const values = drawn.map((value, index) => chosenScene?.[names[index]] ?? value);
    const segments = values.map((value) => encode(value));
    const notes: string[] = [];
    if (brokenEntry) {
      segments[brokenEntry.index] = encode(brokenEntry.value);
      notes.push(`path ${names[brokenEntry.index]} names nothing`);
    }
    if (rawSegment !== null) {
      const index = segments.length - 1;
      segments[index] = rawSegment;
      notes.push(`raw segment ${rawSegment}`);
    }
    let path = operation.template;
    names.forEach((name, index) => {
      path = path.replace(`{${name}}`, segments[index]);
    });
    return { path, note: notes.join(',') };
  });
}

// ------------------------------------------------------------------------------------------------------------

const PADDING_8K = 'p'.repeat(8192);
/** Header values Node's parser accepts (no control characters), so the request reaches the app. */
const printableNasty = nastyString.filter((value) => value.length < 4000 && !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value));

function headerNoise(hostile: boolean): fc.Arbitrary<{ headers: Headers; notes: string[] }> {
  if (!hostile) return fc.constant({ headers: [], notes: [] });
  const one = fc.oneof(
    fc.constant<[string, string]>(['X-Fuzz-Padding', PADDING_8K]),
    printableNasty.map((value): [string, string] => ['X-Correlation-ID', value]),
    fc.constantFrom('a'.repeat(129), 'fz ok', '../x', '').map((value): [string, string] => ['X-Correlation-ID', value]),
    printableNasty.map((value): [string, string] => ['X-Forwarded-For', value]),
    fc.constantFrom('a\u0000b', 'line\r\nInjected: yes', '\u001b[31m').map((value): [string, string] => ['X-Control', value]), // Node's parser refuses these
    fc.constant<[string, string]>(['Cookie', `session=${'c'.repeat(4000)}`]),
    fc.constant<[string, string]>(['Accept', 'text/html, application/xml;q=0.9, */*;q=0.1']),
    fc.constant<[string, string]>(['Accept-Encoding', 'gzip, deflate, br']),
    fc.constant<[string, string]>(['X-Unicode', 'ключ 😀 \u202Eשלום']),
    fc.constant<[string, string]>(['Origin', 'https://evil.example']),
  );
  return fc
    .oneof({ weight: 3, arbitrary: fc.constant<Headers>([]) }, { weight: 2, arbitrary: fc.array(one, { minLength: 1, maxLength: 3 }) })
    .map((headers) => ({ headers, notes: headers.map(([name]) => `header ${name}`) }));
}

/** Idempotency headers of the award route: absent, fine, or over 255 characters (a defect). */
function idempotencyHeaders(operation: FuzzOperation, hostile: boolean, defect: string | undefined): fc.Arbitrary<{ headers: Headers; note: string }> {
  const names = operation.headerParams.map((parameter) => parameter.name);
  if (names.length === 0) return fc.constant({ headers: [], note: '' });
  if (defect === 'idempotency-header') {
    return fc
      .tuple(fc.constantFrom(...names), fc.constantFrom('k'.repeat(256), 'k'.repeat(8192), 'é'.repeat(300)))
      .map(([name, value]) => ({ headers: [[name, value] as [string, string]], note: `${name} over 255 characters` }));
  }
  const value = hostile
    ? fc.oneof(fc.string({ minLength: 1, maxLength: 255 }), nastyString.filter((text) => text.length <= 255), fc.uuid())
    : fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.uuid());
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant({ headers: [] as Headers, note: '' }) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...names), value).map(([name, text]) => ({ headers: [[name, text] as [string, string]], note: `${name} set` })) },
  );
}

/** The rules this operation can be made to break, each certain to get the request refused. */
export function defectsOf(operation: FuzzOperation, context: FuzzContext): string[] {
  const defects: string[] = [];
  if (operation.protected) defects.push('credentials', 'credentials');
  if (operation.pathParams.length > 0) defects.push('path');
  if (operation.body) {
    if (invalidValue(operation.body, context)) defects.push('body', 'body', 'body');
    defects.push('malformed-json', 'content-type');
    // A missing body is refused only when the schema requires a field (an all-optional body may be left out).
    if (operation.bodyRequired && (operation.body.required?.length ?? 0) > 0) defects.push('missing-body');
  }
  if (operation.headerParams.some((parameter) => /idempotency-key/i.test(parameter.name))) defects.push('idempotency-header');
  if (operation.queryParams.some((parameter) => invalidQueryValue(parameter.schema ?? {}) !== null)) defects.push('query');
  if (operation.queryParams.some((parameter) => parameter.required)) defects.push('missing-query');
  return defects;
}

/**
 * Phase 1: any input. A write operation always carries at least one defect (so nothing it could write may
 * appear); a read carries one a third of the time, and is otherwise valid-ish with hostile values sprinkled in.
 */
export function fuzzDraft(operation: FuzzOperation, context: FuzzContext): fc.Arbitrary<Draft> | null {
  const defects = defectsOf(operation, context);
  if (operation.write && defects.length === 0) return null;
  const defect: fc.Arbitrary<string | undefined> = operation.write
    ? fc.constantFrom(...defects)
    : defects.length > 0
      ? fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...defects) })
      : fc.constant(undefined);
  const oversize = operation.body ? fc.oneof({ weight: 60, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) : fc.constant(false);
  return fc.tuple(defect, oversize).chain(([chosen, bigBody]) => {
    const chosenDefect = bigBody && operation.write ? 'oversize-body' : chosen;
    const credentials = chosenDefect === 'credentials' ? refusedCredentials(operation, context) : validCredentials(context, true);
    return fc
      .record({
        credentials,
        path: pathPlan(operation, context, true, chosenDefect),
        query: queryPlan(operation, context, true, chosenDefect),
        body: bodyPlan(operation, context, chosenDefect),
        idempotency: idempotencyHeaders(operation, true, chosenDefect),
        noise: headerNoise(true),
      })
      .map((plan) => assemble(operation, plan, chosenDefect));
  });
}

/** Phase 2: schema-valid requests (unicode, control characters and boundaries included) with credentials that work. */
export function validDraft(operation: FuzzOperation, context: FuzzContext): fc.Arbitrary<Draft> {
  return fc
    .record({
      credentials: validCredentials(context, false).filter((choice) => choice.label !== 'none' && choice.label !== 'read-only key'),
      path: pathPlan(operation, context, false, undefined),
      query: queryPlan(operation, context, false, undefined),
      body: operation.body
        ? fc.oneof(
            { weight: 6, arbitrary: validValue(operation.body, context).map((value) => json(value, 'valid body')) },
            { weight: 1, arbitrary: mutatedBody(operation.body, context).map(([value, why]) => json(value, why)) },
          )
        : fc.constant<BodyPlan>({ note: '' }),
      idempotency: idempotencyHeaders(operation, false, undefined),
      noise: headerNoise(false),
    })
    .map((plan) => assemble(operation, plan, undefined));
}

interface Plan {
  credentials: CredentialChoice;
  path: { path: string; note: string };
  query: QueryPlan;
  body: BodyPlan;
  idempotency: { headers: Headers; note: string };
  noise: { headers: Headers; notes: string[] };
}

function assemble(operation: FuzzOperation, plan: Plan, defect: string | undefined): Draft {
  const headers: Headers = [...plan.credentials.headers, ...plan.idempotency.headers, ...plan.noise.headers];
  if (plan.body.contentType) headers.push(['Content-Type', plan.body.contentType]);
  const notes = [plan.credentials.label, plan.path.note, plan.query.note, plan.body.note, plan.idempotency.note, ...plan.noise.notes].filter(Boolean);
  const mustReject = defect ? `${defect} (${notes.join('; ')})` : undefined;
  return toDraft({
    op: operation.id,
    method: operation.method,
    path: plan.path.path + encodeQuery(plan.query.entries),
    headers,
    body: plan.body.body,
    mustReject,
    mayDrop: plan.body.mayDrop,
    notes,
  });
}

/** Header values Node's client can't send go out on a raw socket, byte for byte. */
export function toDraft(draft: Draft): Draft {
  if (!draft.headers.some(([, value]) => clientRefuses(value))) return draft;
  const printable = draft.headers.filter(([, value]) => !/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value));
  if (printable.length === draft.headers.length) {
    return { ...draft, headers: draft.headers.map(([name, value]) => [name, headerSafe(value)]) };
  }
  // Control characters in a header value: Node's parser answers 400 itself; send the bytes as they are.
  return { ...draft, raw: rawRequest(draft), mayDrop: true };
}

export function rawRequest(draft: Pick<Draft, 'method' | 'path' | 'headers' | 'body'>, host = 'localhost'): Buffer {
  const lines = [`${draft.method} ${draft.path} HTTP/1.1`, `Host: ${host}`, 'Connection: close', ...draft.headers.map(([name, value]) => `${name}: ${value}`)];
  if (draft.body) lines.push(`Content-Length: ${draft.body.length}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), draft.body ?? Buffer.alloc(0)]);
}

// ------------------------------------------------------------------------------------------------------------
// Off the spec: unknown routes and methods, HEAD/OPTIONS, and malformed HTTP that only Node's parser sees.

export function offSpecDraft(operations: FuzzOperation[], context: FuzzContext): fc.Arbitrary<Draft> {
  const gets = operations.filter((operation) => operation.method === 'GET' && operation.pathParams.length === 0).map((operation) => operation.template);
  const unknownPaths = fc.constantFrom(
    '/api/v1/nope',
    '/api/v2/games',
    '/api/v1/games/',
    '//api/v1/games',
    '/api/v1/../health',
    '/API/V1/GAMES',
    '/api/v1/games/%2e%2e/%2e%2e/health',
    '/.env',
    '/docs/../../etc/passwd',
    '/api/v1/games/a/b/c/d/e/f/g',
    `/api/v1/${'x'.repeat(3000)}`,
    '/api/v1/games?%ZZ=1',
    '/api/v1/games?page=%ZZ',
    `/api/v1/games?${'a=1&'.repeat(2000)}`,
  );
  const c = context.credentials;
  const credentials = fc.constantFrom<Headers>([], [key(c.writeKey)], [authorization(`Bearer ${c.admin}`)]);
  return fc.oneof(
    fc.tuple(unknownPaths, fc.constantFrom('GET', 'POST', 'DELETE'), credentials).map(([path, method, headers]) =>
      toDraft({ op: 'OFF-SPEC unknown route', method, path, headers, mustReject: 'unknown route', notes: ['unknown route'] }),
    ),
    fc.tuple(fc.constantFrom(...gets), fc.constantFrom('PUT', 'TRACE', 'PROPFIND', 'PATCH'), credentials).map(([path, method, headers]) =>
      toDraft({ op: 'OFF-SPEC wrong method', method, path, headers, mustReject: `${method} is not an operation of ${path}`, notes: ['wrong method'] }),
    ),
    fc.tuple(fc.constantFrom(...gets), fc.constantFrom('HEAD', 'OPTIONS'), credentials).map(([path, method, headers]) =>
      toDraft({ op: `OFF-SPEC ${method}`, method, path, headers, notes: [method] }),
    ),
    fc.constantFrom(...malformedHttp(c)).map(([name, bytes]) => ({ op: 'OFF-SPEC malformed HTTP', method: 'RAW', path: name, headers: [], raw: bytes, mayDrop: true, notes: [name] })),
  );
}

function malformedHttp(c: FuzzCredentials): Array<[string, Buffer]> {
  const text = (value: string) => Buffer.from(value, 'latin1');
  const utf8 = (value: string) => Buffer.from(value, 'utf8');
  return [
    ['NUL in a header value', text('GET /health HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n')],
    ['header without a colon', text('GET /health HTTP/1.1\r\nHost: x\r\nNoColonHeader\r\n\r\n')],
    ['20 KiB header', text(`GET /api/v1/games HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`)],
    ['8 KiB key + 8 KiB bearer + 8 KiB padding', text(`GET /api/v1/games HTTP/1.1\r\nHost: x\r\nX-API-Key: ${'k'.repeat(8192)}\r\nAuthorization: Bearer ${'t'.repeat(8192)}\r\nX-Pad: ${'p'.repeat(8192)}\r\n\r\n`)],
    ['two different Content-Lengths', text('POST /api/v1/games HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}')],
    ['chunked and Content-Length', text('POST /api/v1/games HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n')],
    ['bad chunk size', text('POST /api/v1/games HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n')],
    ['space in the method', text('GE T / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['HTTP/9.9', text('GET /health HTTP/9.9\r\nHost: x\r\n\r\n')],
    ['non-ASCII X-API-Key bytes', Buffer.concat([text('GET /api/v1/games HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-API-Key: '), utf8('qk_live_ключ1234.секрет'), text('\r\n\r\n')])],
    ['DEL in Authorization', text('GET /api/v1/games HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \u007f\r\n\r\n')],
    ['obs-fold', text(`GET /api/v1/games HTTP/1.1\r\nHost: x\r\nX-API-Key: ${c.writeKey}\r\n folded\r\n\r\n`)],
    ['empty lines before the request line', text('\r\n\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')],
    ['NUL in the target', text('GET /api/v1/games\u0000 HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['absolute-form target', text('GET http://evil.example/api/v1/games HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')],
    ['raw bytes in the path', Buffer.concat([text('GET /api/v1/games/'), Buffer.from([0xff, 0xfe, 0x80]), text(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')])],
    ['bare LF line ends', text('GET /health HTTP/1.1\nHost: x\n\n')],
    ['missing Host', text('GET /health HTTP/1.1\r\nConnection: close\r\n\r\n')],
    ['Content-Length not a number', text('POST /api/v1/games HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{}')],
    ['negative Content-Length', text('POST /api/v1/games HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n')],
  ];
}

/** Fresh sequence numbers and the correlation ids that go with them. */
export function finalise(draft: Draft, seq: number): FuzzRequest {
  const request: FuzzRequest = { ...draft, seq, headers: [...draft.headers] };
  if (!request.raw && !request.headers.some(([name]) => name.toLowerCase() === 'x-correlation-id')) request.headers.push(['X-Correlation-ID', `fz-${seq}`]);
  if (oversizedHeaders(request.headers)) request.mayDrop = true;
  return request;
}

export { RawJson };
