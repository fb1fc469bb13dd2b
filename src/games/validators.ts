import { registerDecorator, ValidateIf, type ValidationOptions } from 'class-validator';

/** PostgreSQL text and jsonb cannot hold U+0000, so such input is refused up front instead of failing in SQL. */
export function hasNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(hasNul);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([key, item]) => key.includes('\u0000') || hasNul(item));
  return false;
}

export function NoNul(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'noNul',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must not contain NUL characters`, ...options },
      validator: { validate: (value: unknown) => !hasNul(value) },
    });
}

/** A param value: a string (≤ 1000 chars), a finite number or a boolean. */
export function IsParamValue(options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isParamValue',
      target: target.constructor,
      propertyName,
      options: { message: `${propertyName} must be a string (up to 1000 characters), a number or a boolean`, ...options },
      validator: {
        validate: (value: unknown) =>
          (typeof value === 'string' && value.length <= 1000 && !hasNul(value)) ||
          (typeof value === 'number' && Number.isFinite(value)) ||
          typeof value === 'boolean',
      },
    });
}

/** A JSON object (not an array or null) whose serialized form is at most `maxBytes` bytes of UTF-8. */
export function IsJsonObjectWithin(maxBytes: number, options?: ValidationOptions) {
  return (target: object, propertyName: string) =>
    registerDecorator({
      name: 'isJsonObjectWithin',
      target: target.constructor,
      propertyName,
      constraints: [maxBytes],
      options: { message: `${propertyName} must be a JSON object of at most ${maxBytes} bytes when serialized (without NUL characters)`, ...options },
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'object' || value === null || Array.isArray(value) || hasNul(value)) return false;
          return Buffer.byteLength(JSON.stringify(value), 'utf8') <= maxBytes;
        },
      },
    });
}

export const SLUG_3_60 = /^[A-Za-z0-9_-]{3,60}$/;
export const SLUG_1_100 = /^[A-Za-z0-9_-]{1,100}$/;
export const PARAM_KEY = /^[A-Za-z0-9_.:-]{1,100}$/;

/** Like `@IsOptional()`, but only an absent field is skipped: an explicit `null` is still validated (and refused). */
export const IsOptionalNotNull = (options?: ValidationOptions) => ValidateIf((_object, value) => value !== undefined, options);
