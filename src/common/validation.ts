import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { DomainError, type FieldError } from './domain-error.js';

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

/** The global pipe: unknown fields and bad values are 422 with one entry per bad field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => validationFailed(flatten(errors)),
  });
}
