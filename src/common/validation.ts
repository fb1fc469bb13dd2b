import { ValidationPipe, type ArgumentMetadata, type PipeTransform, type ValidationError } from '@nestjs/common';
import { plainToInstance, type ClassConstructor, type ClassTransformOptions } from 'class-transformer';
import { validate, type ValidatorOptions } from 'class-validator';
import { DomainError, type FieldError } from './domain-error.js';
import { cacheValidationMetadata } from './validation-metadata-cache.js';

function flatten(errors: ValidationError[], parent = ''): FieldError[] {
  const result: FieldError[] = [];
  for (const error of errors) {
    const field = parent ? `${parent}.${error.property}` : error.property;
    for (const message of Object.values(error.constraints ?? {})) result.push({ field, message });
    if (error.children?.length) result.push(...flatten(error.children, field));
  }
  return result;
}

export function validationFailed(errors: FieldError[]): DomainError {
  const fields = [...new Set(errors.map((error) => error.field))];
  return new DomainError('unprocessable', `Validation failed for: ${fields.join(', ')}`, { errors });
}

/** Deeper bodies are refused before class-transformer, whose recursion overflows the stack a few thousand levels down. */
export const MAX_JSON_DEPTH = 100;

/** class-transformer drops these keys silently, so they would slip past `forbidNonWhitelisted`. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** The first structural problem of a parsed body or query (too deep, a reserved key), found without recursion. */
export function structuralError(value: unknown, root: string): FieldError | undefined {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value, path: '', depth: 0 }];
  while (stack.length > 0) {
    const { value: current, path, depth } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return { field: path || root, message: `${root} must not be nested more than ${MAX_JSON_DEPTH} levels deep` };
    for (const key of Object.keys(current)) {
      const field = path ? `${path}.${key}` : key;
      if (!Array.isArray(current) && RESERVED_KEYS.has(key)) return { field, message: `property ${field} should not exist` };
      stack.push({ value: (current as Record<string, unknown>)[key], path: field, depth: depth + 1 });
    }
  }
  return undefined;
}

const NUL_OR_LONE_SURROGATE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MAX_UNSTORABLE_ERRORS = 20;

/**
 * Every string (or object key) PostgreSQL cannot store: U+0000 (text and jsonb refuse it) and unpaired UTF-16
 * surrogates (jsonb refuses the `\ud800` escape; text would silently hold U+FFFD instead).
 */
export function unstorableStrings(value: unknown, root: string): FieldError[] {
  const errors: FieldError[] = [];
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
  while (stack.length > 0 && errors.length < MAX_UNSTORABLE_ERRORS) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      if (NUL_OR_LONE_SURROGATE.test(current)) errors.push({ field: path || root, message: `${path || root} must not contain NUL characters or unpaired surrogates` });
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    for (const key of Object.keys(current)) {
      const field = path ? `${path}.${key}` : key;
      if (NUL_OR_LONE_SURROGATE.test(key)) errors.push({ field, message: `property names must not contain NUL characters or unpaired surrogates` });
      else stack.push({ value: (current as Record<string, unknown>)[key], path: field });
    }
  }
  return errors;
}

/**
 * A value handed on as it came, without a promise of the pipe's own: a path parameter declared as a string (what
 * `ValidationPipe` returns for it too) and a custom decorator's (none today: `@Auth()` hands over the request, which no
 * pipe sees). Nest still awaits the pipe for every such parameter; this only saves `ValidationPipe`'s own promises.
 */
function passesAsIs(metadata: ArgumentMetadata): boolean {
  return metadata.type === 'custom' || (metadata.type === 'param' && (metadata.metatype === String || metadata.metatype === undefined));
}

const TRANSFORM_OPTIONS: ClassTransformOptions = { enableImplicitConversion: false };
const VALIDATOR_OPTIONS: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  validationError: { target: false, value: false },
};
/** Types `ValidationPipe` hands on without validating them as classes. */
const NOT_CLASSES = new Set<unknown>([String, Boolean, Number, Array, Object, Buffer, Date]);

function exceptionFactory(errors: ValidationError[]): DomainError {
  return validationFailed(flatten(errors));
}

/** A parsed JSON object or query string: an object of plain data, neither an array nor an instance of a class. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * `ValidationPipe` with the checks it lacks (depth, reserved keys, strings PostgreSQL cannot store) around it.
 *
 * A body or query that is a plain object — every valid one — is turned into its DTO and validated by class-transformer
 * and class-validator directly, with the pipe's options. That is what `ValidationPipe` does with it, less three walks
 * over the value for what a parsed body or query cannot hold once the structural check has passed (prototype keys,
 * binary values, sparse arrays), and a quarter of validation's cost per request. Anything else (no body, a primitive,
 * an array) goes through `ValidationPipe` itself, with its answers for those.
 */
class ApiValidationPipe implements PipeTransform {
  constructor(private readonly pipe: ValidationPipe) {}

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (passesAsIs(metadata)) return value;
    return this.check(value, metadata);
  }

  private async check(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const checked = metadata.type === 'body' || metadata.type === 'query';
    if (checked) {
      const error = structuralError(value, metadata.type);
      if (error) throw validationFailed([error]);
    }
    const transformed: unknown =
      checked && isPlainObject(value) && metadata.metatype && !NOT_CLASSES.has(metadata.metatype)
        ? await validateObject(value, metadata.metatype)
        : await this.pipe.transform(value, metadata);
    // After the DTO's own rules (their field names and messages come first): a safety net for fields without @NoNul.
    if (checked) {
      const unstorable = unstorableStrings(value, metadata.type);
      if (unstorable.length > 0) throw validationFailed(unstorable);
    }
    return transformed;
  }
}

async function validateObject(value: Record<string, unknown>, metatype: ClassConstructor<object>): Promise<object> {
  const entity = plainToInstance(metatype, value, TRANSFORM_OPTIONS);
  const errors = await validate(entity, VALIDATOR_OPTIONS);
  if (errors.length > 0) throw exceptionFactory(errors);
  return entity;
}

/** Nest's `ValidationPipe` with the global pipe's options: what the global pipe answers as for everything it checks. */
export function nestValidationPipe(): ValidationPipe {
  return new ValidationPipe({ ...VALIDATOR_OPTIONS, transform: true, transformOptions: TRANSFORM_OPTIONS, exceptionFactory });
}

/** The global pipe: unknown fields and bad values are 422 with one entry per bad field. */
export function createValidationPipe(): PipeTransform {
  cacheValidationMetadata();
  return new ApiValidationPipe(nestValidationPipe());
}
