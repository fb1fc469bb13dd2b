import fc from 'fast-check';

/**
 * fast-check arbitraries derived from the OpenAPI document: schema-valid values, values the schema itself forbids
 * (so the request is certain to be refused), and hostile values that may or may not be valid.
 */

export interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  oneOf?: Schema[];
  additionalProperties?: boolean | Schema;
  example?: unknown;
  default?: unknown;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

export interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  security?: Array<Record<string, string[]>>;
}

/** One operation of the spec with what the fuzzer needs to know about it. */
export interface FuzzOperation {
  id: string; // "POST /api/v1/games"
  method: string;
  template: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  headerParams: Parameter[];
  body?: Schema;
  bodyRequired: boolean;
  /** No security entry is `{}`: a request without a valid credential is refused. */
  protected: boolean;
  acceptsApiKey: boolean;
  /** Any method but GET/HEAD: the read-only key is refused, and phase 1 only sends it requests certain to be refused. */
  write: boolean;
}

export function resolve(document: OpenApiDocument, schema: Schema | undefined, depth = 0): Schema {
  if (!schema) return {};
  if (depth > 20) return {};
  if (schema.$ref) {
    const name = schema.$ref.split('/').pop()!;
    return resolve(document, document.components?.schemas?.[name], depth + 1);
  }
  const resolved: Schema = { ...schema };
  if (schema.properties) {
    resolved.properties = Object.fromEntries(Object.entries(schema.properties).map(([key, value]) => [key, resolve(document, value, depth + 1)]));
  }
  if (schema.items) resolved.items = resolve(document, schema.items, depth + 1);
  if (schema.oneOf) resolved.oneOf = schema.oneOf.map((entry) => resolve(document, entry, depth + 1));
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    resolved.additionalProperties = resolve(document, schema.additionalProperties, depth + 1);
  }
  return resolved;
}

export function operationsOf(document: OpenApiDocument): FuzzOperation[] {
  const operations: FuzzOperation[] = [];
  for (const [template, methods] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      if (!['get', 'post', 'put', 'patch', 'delete', 'head', 'options'].includes(method)) continue;
      const parameters = (operation.parameters ?? []).map((parameter) => ({ ...parameter, schema: resolve(document, parameter.schema) }));
      const security = operation.security ?? [];
      const jsonBody = operation.requestBody?.content?.['application/json']?.schema;
      const upper = method.toUpperCase();
      operations.push({
        id: `${upper} ${template}`,
        method: upper,
        template,
        pathParams: parameters.filter((parameter) => parameter.in === 'path'),
        queryParams: parameters.filter((parameter) => parameter.in === 'query'),
        headerParams: parameters.filter((parameter) => parameter.in === 'header'),
        body: jsonBody ? resolve(document, jsonBody) : undefined,
        bodyRequired: operation.requestBody?.required === true,
        protected: security.length > 0 && !security.some((entry) => Object.keys(entry).length === 0),
        acceptsApiKey: security.some((entry) => 'api-key' in entry),
        write: !['GET', 'HEAD', 'OPTIONS'].includes(upper),
      });
    }
  }
  return operations;
}

// ------------------------------------------------------------------------------------------------------------
// Raw JSON: number literals JSON.stringify can't write (-0, 1e309, 2^53 + 1 exactly) and pre-built deep nesting.

export class RawJson {
  constructor(readonly text: string) {}
}

export function toJsonText(value: unknown): string {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : toJsonText(item))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      if (item === undefined) continue;
      parts.push(`${JSON.stringify(key)}:${toJsonText(item)}`);
    }
    return `{${parts.join(',')}}`;
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return 'null';
  return JSON.stringify(value) ?? 'null';
}

/** An object with an own, enumerable `__proto__` (or any other) key, as JSON.parse would build it. */
export function withOwnKey(target: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const existing of Object.keys(target)) Object.defineProperty(copy, existing, { value: target[existing], enumerable: true, writable: true, configurable: true });
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

export const deepObject = (depth: number) => new RawJson(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
export const deepArray = (depth: number) => new RawJson(`${'['.repeat(depth)}${']'.repeat(depth)}`);

// ------------------------------------------------------------------------------------------------------------
// Strings

/** 100 KB+ strings: ASCII, 2-byte, astral (4-byte UTF-8) and RTL. Built once; fast-check picks among them. */
export const HUGE_STRINGS = [
  'x'.repeat(100_001),
  'é'.repeat(60_000),
  '😀'.repeat(30_000),
  'مرحبا'.repeat(25_000),
  'a\u0000'.repeat(60_000),
];

export const NASTY_STRINGS: string[] = [
  '',
  ' ',
  '\t',
  '\u0000',
  'a\u0000b',
  '\u202Eevil\u202C', // right-to-left override
  'שלום עולם',
  'مرحبا بالعالم',
  '𝕳𝖊𝖑𝖑𝖔 🧪🏳️‍🌈',
  '\uD800', // lone surrogates
  '\uDFFFx\uD83D',
  'e\u0301\u0301\u0301',
  '\u200B\u200C\u200D\uFEFF',
  'line\r\nbreak',
  '\u001b[31mred\u001b[0m',
  '\u007f\u0085\u2028\u2029',
  "' OR '1'='1' --",
  '"; DROP TABLE games; --',
  "1'; SELECT pg_sleep(10); --",
  '${jndi:ldap://example.invalid/a}',
  '{{7*7}}<%= 7*7 %>',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%00',
  '%2e%2e%2f',
  'null',
  'undefined',
  'true',
  '0',
  '-0',
  'NaN',
  'Infinity',
  '1e308',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'a'.repeat(101),
  'b'.repeat(256),
  'c'.repeat(1001),
  'd'.repeat(4096),
];

/** What PostgreSQL can't store or stores differently (NUL, unpaired surrogates) and what renders oddly: phase 2 sends these as valid values. */
export const STORAGE_HAZARDS = ['a\u0000b', '\u0000', '\uD800', 'x\uDFFF', '\uDBFF\uDBFF', '\u202Eevil', '𝕳𝖊𝖑𝖑𝖔', '\u0001\u001f', 'e\u0301', '\uFEFF', '\\u0000'];

const SLUG = /^[A-Za-z0-9_-]+$/;

/** Any string, weighted towards the nasty ones. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) }, // any code point incl. astral
  { weight: 2, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }) }, // control characters
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom(...HUGE_STRINGS) },
);

/** Strings that are never a slug, a UUID or an id of ours: path values that can't name an existing resource. */
export const garbageId: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom(
      'not-a-uuid!',
      '00000000-0000-0000-0000-00000000000g',
      '{00000000-0000-4000-8000-000000000000}',
      '00000000-0000-4000-8000-000000000000 ',
      '../../etc/passwd',
      "1' OR '1'='1",
      '1;DROP TABLE games',
      'a\u0000b',
      '\u0000',
      '😀😀😀',
      '\u202Egame',
      'ünïcødé',
      '%',
      ' ',
      'x y',
      'a.b',
      'a'.repeat(499) + '.',
      'z'.repeat(600) + '!',
      '-1.5',
      '1e308!',
      '__proto__.x',
      'constructor.prototype',
    ),
    nastyString.filter((value) => value.length > 0 && value.length < 2000),
  )
  .filter((value) => !SLUG.test(value)); // a slug could name a user that a write then creates

/** Names every plain object inherits: a lookup table indexed with them without an own-key check finds Object.prototype. */
export const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__', 'propertyIsEnumerable'];

/** Values for a path parameter: the given known ids, random well-formed ids, and garbage. */
export function pathValue(known: string[]): fc.Arbitrary<string> {
  const arbitraries: Array<fc.WeightedArbitrary<string>> = [
    { weight: 2, arbitrary: garbageId },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: fc.constantFrom('0', '-1', '1e3', 'null', 'undefined', 'NaN', '00000000-0000-0000-0000-000000000000', '00000000-0000-0000-0000-00000000000g', 'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF') },
    { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES) },
  ];
  if (known.length > 0) arbitraries.push({ weight: 7, arbitrary: fc.constantFrom(...known) });
  return fc.oneof(...arbitraries);
}

// ------------------------------------------------------------------------------------------------------------
// Numbers

export const NASTY_NUMBERS: unknown[] = [
  new RawJson('-0'),
  new RawJson('1e308'),
  new RawJson('1e309'), // parses to Infinity
  new RawJson('-1e309'),
  new RawJson('9007199254740993'),
  new RawJson('123456789012345678901234567890'),
  new RawJson('1e-400'),
  new RawJson('1E2'),
  2 ** 53,
  -(2 ** 53),
  2 ** 31,
  2 ** 63,
  -1,
  0,
  0.5,
  1.5,
  Number.MAX_SAFE_INTEGER,
  Number.MIN_VALUE,
  'NaN',
  'Infinity',
  '-Infinity',
  '1',
];

export const NASTY_QUERY_NUMBERS = [
  '0',
  '-0',
  '-1',
  '1.5',
  '1e3',
  '0x10',
  ' 1',
  '1 ',
  '',
  'NaN',
  'Infinity',
  '-Infinity',
  '9007199254740993',
  '1e308',
  '1e309',
  '99999999999999999999999',
  'abc',
  '１', // full-width digit
  '٣', // Arabic-Indic digit
];

// ------------------------------------------------------------------------------------------------------------
// Schema-driven values

export interface ValueContext {
  /** Known-good values for fields of this name (fixtures), so valid bodies reach deep code paths. */
  pools: Record<string, unknown[]>;
}

function isoDate(date: Date): string {
  return date.toISOString();
}

const futureDate = fc.date({ min: new Date(Date.now() + 86_400_000), max: new Date('2999-12-31T00:00:00Z'), noInvalidDate: true });
const anyDate = fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T00:00:00Z'), noInvalidDate: true });

/** Strings within the schema's lengths that aren't bound by a pattern or enum: unicode, RTL, control characters. */
function freeString(schema: Schema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = Math.min(schema.maxLength ?? 200, 200);
  return fc
    .oneof(
      { weight: 4, arbitrary: fc.string({ minLength: min, maxLength: max }) },
      { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: min, maxLength: max }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: min, maxLength: max }) },
      { weight: 2, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
      { weight: 2, arbitrary: fc.constantFrom(...STORAGE_HAZARDS) },
    )
    .filter((value) => value.length >= min && value.length <= (schema.maxLength ?? Infinity));
}

export function validValue(schema: Schema, context: ValueContext, name = '', depth = 0): fc.Arbitrary<unknown> {
  const pool = name ? context.pools[name] : undefined;
  const generic = validGeneric(schema, context, depth);
  if (pool && pool.length > 0) return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: generic });
  return generic;
}

function validGeneric(schema: Schema, context: ValueContext, depth: number): fc.Arbitrary<unknown> {
  if (schema.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  if (schema.oneOf && schema.oneOf.length > 0) return fc.oneof(...schema.oneOf.map((entry) => validGeneric(entry, context, depth + 1)));
  switch (schema.type) {
    case 'string': {
      if (schema.format === 'uuid') return fc.uuid();
      if (schema.format === 'date-time') return futureDate.map(isoDate);
      if (schema.format === 'date') return anyDate.map((date) => isoDate(date).slice(0, 10));
      if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern));
      const examples = schema.example !== undefined ? [schema.example] : [];
      return examples.length > 0 ? fc.oneof(fc.constant(examples[0]), freeString(schema)) : freeString(schema);
    }
    case 'number':
    case 'integer': {
      const min = schema.minimum ?? -1_000_000;
      const max = schema.maximum ?? Math.max(min + 1_000_000, 1_000_000);
      const integer = fc.integer({ min: Math.ceil(min), max: Math.floor(Math.min(max, Number.MAX_SAFE_INTEGER)) });
      const boundaries = [schema.minimum, schema.maximum].filter((value): value is number => value !== undefined);
      return boundaries.length > 0 ? fc.oneof({ weight: 4, arbitrary: integer }, { weight: 1, arbitrary: fc.constantFrom(...boundaries) }) : integer;
    }
    case 'boolean':
      return fc.boolean();
    case 'array': {
      const maxItems = Math.min(schema.maxItems ?? 5, 5);
      return fc.array(validValue(schema.items ?? {}, context, '', depth + 1), { minLength: schema.minItems ?? 0, maxLength: maxItems });
    }
    case 'object':
    default: {
      if (!schema.properties) {
        if (schema.type === 'object' || schema.additionalProperties) return freeFormObject(depth);
        return fc.jsonValue({ maxDepth: 2 });
      }
      const required = new Set(schema.required ?? []);
      const entries = Object.entries(schema.properties).map(([key, property]) => {
        const value = validValue(property, context, key, depth + 1);
        return [key, required.has(key) ? value : fc.option(value, { nil: undefined, freq: 2 })] as const;
      });
      return fc.record(Object.fromEntries(entries)).map((record) => dropUndefined(record as Record<string, unknown>));
    }
  }
}

function dropUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

/** A free-form JSON object (e.g. `data`): small, with unicode keys and values, sometimes 1,000 levels deep. */
function freeFormObject(depth: number): fc.Arbitrary<unknown> {
  const small = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
  if (depth > 3) return small;
  return fc.oneof(
    { weight: 8, arbitrary: small },
    { weight: 1, arbitrary: fc.constant(null).map(() => ({ nested: deepObject(1000) })) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map((text) => ({ eventId: text, '\u202E': text })) },
    { weight: 1, arbitrary: fc.constantFrom(...STORAGE_HAZARDS).map((text) => ({ note: text, [text]: 1 })) },
  );
}

export interface Invalid {
  value: unknown;
  why: string;
}

const EXTRA_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'isAdmin',
  'apiKeyUsed',
  'api_key_used',
  'oauthUserId',
  'owner',
  'created_at',
  'deleted_at',
  'gameId',
  'taskId',
  'points',
  'role',
  '$where',
  'toString',
  'hasOwnProperty',
  '',
  '😀',
  'a\u0000b',
];

const WRONG_TYPES: unknown[] = [null, true, 0, -1, 'text', [], {}, [1, 'a'], { a: 1 }];

/** Values the schema forbids; fast-check picks which rule to break. `null` when the schema forbids nothing. */
export function invalidValue(schema: Schema, context: ValueContext, depth = 0): fc.Arbitrary<Invalid> | null {
  const options: Array<fc.Arbitrary<Invalid>> = [];
  const wrongType = (allowed: (value: unknown) => boolean, why: string) =>
    fc.constantFrom(...WRONG_TYPES.filter((value) => !allowed(value))).map((value) => ({ value, why: `${why}: ${JSON.stringify(value)}` }));

  if (schema.oneOf && schema.oneOf.length > 0) {
    const types = new Set(schema.oneOf.map((entry) => entry.type));
    options.push(
      wrongType(
        (value) => (typeof value === 'string' && types.has('string')) || (typeof value === 'number' && types.has('number')) || (typeof value === 'boolean' && types.has('boolean')),
        'oneOf wrong type',
      ),
    );
    return fc.oneof(...options);
  }
  if (schema.enum && schema.enum.length > 0) {
    const values = schema.enum;
    options.push(
      fc
        .oneof(nastyString, fc.constantFrom(...values.map((value) => String(value).toUpperCase()), ...values.map((value) => ` ${String(value)}`)))
        .filter((value) => !values.includes(value))
        .map((value) => ({ value, why: 'not in enum' })),
    );
    options.push(wrongType((value) => values.includes(value as never), 'enum wrong type'));
    return fc.oneof(...options);
  }
  switch (schema.type) {
    case 'string': {
      options.push(wrongType((value) => typeof value === 'string', 'string wrong type'));
      if (schema.maxLength !== undefined) {
        const max = schema.maxLength;
        options.push(fc.constant({ value: 'x'.repeat(max + 1), why: `maxLength ${max} + 1` }));
        options.push(fc.constantFrom(...HUGE_STRINGS).map((value) => ({ value, why: 'huge string' })));
      }
      if (schema.minLength !== undefined && schema.minLength > 0) options.push(fc.constant({ value: '', why: 'empty string' }));
      if (schema.pattern) {
        const pattern = new RegExp(schema.pattern);
        options.push(
          fc
            .oneof(nastyString, fc.constantFrom(...HUGE_STRINGS))
            .filter((value) => !pattern.test(value))
            .map((value) => ({ value, why: `pattern ${schema.pattern}` })),
        );
      }
      if (schema.format === 'uuid') {
        options.push(fc.constantFrom('nope', '1234', '00000000-0000-0000-0000-00000000000g', '').map((value) => ({ value, why: 'not a uuid' })));
      }
      if (schema.format === 'date-time' || schema.format === 'date') {
        options.push(fc.constantFrom('not-a-date', '99999-99-99', '2026-13-45T25:61:00Z', '😀', 'NaN', 'yesterday').map((value) => ({ value, why: 'not a date' })));
      }
      break;
    }
    case 'number':
    case 'integer': {
      options.push(wrongType((value) => typeof value === 'number', 'number wrong type'));
      options.push(fc.constantFrom('NaN', 'Infinity', '-Infinity', '1').map((value) => ({ value, why: `number as string ${value}` })));
      if (schema.minimum !== undefined) {
        const min = schema.minimum;
        options.push(fc.constantFrom<unknown>(min - 1, min - 0.5, -(2 ** 53), -1e308, new RawJson('-1e309')).map((value) => ({ value, why: `below minimum ${min}` })));
      }
      if (schema.maximum !== undefined) {
        const max = schema.maximum;
        options.push(fc.constantFrom<unknown>(max + 1, 2 ** 53, 1e308, new RawJson('1e309')).map((value) => ({ value, why: `above maximum ${max}` })));
      }
      break;
    }
    case 'boolean':
      options.push(wrongType((value) => typeof value === 'boolean', 'boolean wrong type'));
      options.push(fc.constantFrom('true', 'false', 1, 0, 'yes').map((value) => ({ value, why: 'boolean as other' })));
      break;
    case 'array': {
      options.push(wrongType((value) => Array.isArray(value), 'array wrong type'));
      if (schema.maxItems !== undefined) {
        const max = schema.maxItems;
        const item = validValue(schema.items ?? {}, context, '', depth + 1);
        options.push(item.map((value) => ({ value: Array.from({ length: max + 1 }, () => value), why: `maxItems ${max} + 1` })));
      }
      const badItem = schema.items ? invalidValue(schema.items, context, depth + 1) : null;
      if (badItem) {
        options.push(
          fc.tuple(fc.array(validValue(schema.items ?? {}, context, '', depth + 1), { maxLength: 2 }), badItem).map(([good, bad]) => ({
            value: [...good, bad.value],
            why: `item ${good.length}: ${bad.why}`,
          })),
        );
      }
      break;
    }
    default: {
      const isObject = schema.type === 'object' || schema.properties !== undefined;
      if (!isObject) return null;
      // Nest's ValidationPipe reads a top-level `null` as `{}`, which is valid when no field is required.
      const nullRefused = depth > 0 || (schema.required?.length ?? 0) > 0;
      options.push(
        fc
          .constantFrom<unknown>(...(nullRefused ? [null] : []), true, 1, 'text', [], [{}], deepArray(1000), deepArray(100_000))
          .map((value) => ({ value, why: `object wrong type: ${value instanceof RawJson ? 'deep array' : JSON.stringify(value)}` })),
      );
      if (!schema.properties) break; // free-form: any object is fine
      const base = validValue(schema, context, '', depth + 1) as fc.Arbitrary<Record<string, unknown>>;
      const required = schema.required ?? [];
      if (required.length > 0) {
        options.push(
          fc.tuple(base, fc.constantFrom(...required)).map(([value, missing]) => {
            const copy = { ...value };
            delete copy[missing];
            return { value: copy, why: `missing required ${missing}` };
          }),
        );
      }
      if (schema.additionalProperties !== true) {
        const properties = schema.properties;
        const extraKey = fc.oneof(fc.constantFrom(...EXTRA_KEYS), fc.string({ unit: 'binary', minLength: 1, maxLength: 20 })).filter((key) => !(key in properties));
        const extraValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant({ polluted: true }), fc.constant(deepObject(1000)), fc.constantFrom(...HUGE_STRINGS));
        options.push(
          fc.tuple(base, extraKey, extraValue).map(([value, key, extra]) => ({ value: withOwnKey(value, key, extra), why: `extra field ${JSON.stringify(key)}` })),
        );
      }
      // An optional field sent as `null` is read as absent by `@IsOptional()` (api-keys, pagination), so it is not certain to be refused.
      const requiredSet = new Set(required);
      const breakable = Object.entries(schema.properties)
        .map(([key, property]) => [key, invalidValue(property, context, depth + 1)?.filter((entry) => requiredSet.has(key) || entry.value !== null) ?? null] as const)
        .filter((entry): entry is readonly [string, fc.Arbitrary<Invalid>] => entry[1] !== null);
      if (breakable.length > 0) {
        options.push(
          fc.tuple(base, fc.integer({ min: 0, max: breakable.length - 1 })).chain(([value, index]) => {
            const [key, bad] = breakable[index];
            return bad.map((invalid) => ({ value: { ...value, [key]: invalid.value }, why: `${key}: ${invalid.why}` }));
          }),
        );
      }
    }
  }
  return options.length > 0 ? fc.oneof(...options) : null;
}

/** Any value for the schema, valid or not: boundaries, nasty strings, wrong types. */
export function hostileValue(schema: Schema, context: ValueContext, name = ''): fc.Arbitrary<unknown> {
  const invalid = invalidValue(schema, context);
  const options: Array<fc.WeightedArbitrary<unknown>> = [
    { weight: 3, arbitrary: validValue(schema, context, name) },
    { weight: 2, arbitrary: fc.constantFrom(...NASTY_NUMBERS) },
    { weight: 3, arbitrary: nastyString },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  ];
  if (invalid) options.push({ weight: 3, arbitrary: invalid.map((entry) => entry.value) });
  return fc.oneof(...options);
}

/** A query value as text: schema-valid, or one of the classic bad ones. */
export function queryValue(schema: Schema, context: ValueContext, name: string, hostile: boolean): fc.Arbitrary<string> {
  const valid = validValue(schema, context, name).map((value) => (typeof value === 'string' ? value : JSON.stringify(value)));
  if (!hostile) return valid;
  const numeric = schema.type === 'number' || schema.type === 'integer';
  return fc.oneof(
    { weight: 2, arbitrary: valid },
    { weight: numeric ? 4 : 1, arbitrary: fc.constantFrom(...NASTY_QUERY_NUMBERS) },
    { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES, ...PROTOTYPE_NAMES.map((name) => `-${name}`)) },
    { weight: 3, arbitrary: nastyString.filter((value) => value.length < 3000) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('-0001-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', '+275761-01-01', '0000-01-01', '9999-12-31T23:59:59.999Z', '2026-02-30', '1970-01-01', '2026-11-25T16:07:03.123+14:00'),
    },
  );
}

/** A query value certain to be refused (the schema forbids it), or null when the schema forbids nothing a string can say. */
export function invalidQueryValue(schema: Schema): fc.Arbitrary<Invalid> | null {
  if (schema.enum && schema.enum.length > 0) {
    const values = schema.enum.map(String);
    return fc.oneof(nastyString, fc.constantFrom(...values.map((value) => value.toUpperCase()))).filter((value) => value.length < 3000 && !values.includes(value)).map((value) => ({ value, why: 'query not in enum' }));
  }
  if (schema.type === 'number' || schema.type === 'integer') {
    const options: Array<fc.Arbitrary<Invalid>> = [fc.constantFrom('abc', 'NaN', '', '1x', '0x', '١').map((value) => ({ value, why: `query not a number: ${value}` }))];
    if (schema.minimum !== undefined) options.push(fc.constant({ value: String(schema.minimum - 1), why: 'query below minimum' }));
    if (schema.maximum !== undefined) options.push(fc.constantFrom(String(schema.maximum + 1), '1e309', '9007199254740993').map((value) => ({ value, why: 'query above maximum' })));
    return fc.oneof(...options);
  }
  if (schema.type === 'boolean') return fc.constantFrom('yes', '2', 'TRUE ', '', 'null').map((value) => ({ value, why: 'query not a boolean' }));
  if (schema.format === 'date' || schema.format === 'date-time') return fc.constantFrom('not-a-date', '2026-13-45', '😀').map((value) => ({ value, why: 'query not a date' }));
  return null;
}
