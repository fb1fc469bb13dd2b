import { getMetadataStorage, IsInt, IsString } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { DomainError } from './domain-error.js';
import { createValidationPipe } from './validation.js';

class NameDto {
  @IsString()
  name!: string;
}

describe('the global validation pipe', () => {
  const pipe = createValidationPipe();

  it('hands on string path parameters and custom decorators’ values as they came, without a promise', () => {
    const auth = { isAdmin: false };
    expect(pipe.transform('game-1', { type: 'param', metatype: String, data: 'gameId' })).toBe('game-1');
    expect(pipe.transform(auth, { type: 'custom', metatype: Object })).toBe(auth);
  });

  it('checks bodies: a DTO instance for a valid one, 422 with the fields for unknown or bad ones', async () => {
    const valid = pipe.transform({ name: 'x' }, { type: 'body', metatype: NameDto });
    expect(valid).toBeInstanceOf(Promise);
    await expect(valid).resolves.toBeInstanceOf(NameDto);
    const refused = await Promise.resolve(pipe.transform({ name: 1, extra: true }, { type: 'body', metatype: NameDto })).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).message).toBe('Validation failed for: extra, name');
  });

  it('still converts a path parameter declared as a number, and refuses what PostgreSQL cannot store', async () => {
    await expect(Promise.resolve(pipe.transform('42', { type: 'param', metatype: Number, data: 'page' }))).resolves.toBe(42);
    const refused = await Promise.resolve(pipe.transform({ name: 'a\u0000b' }, { type: 'body', metatype: NameDto })).catch((error: unknown) => error);
    expect((refused as DomainError).message).toBe('Validation failed for: name');
  });
});

describe('class-validator metadata memo', () => {
  it('answers the same rules without recomputing them, and sees classes and rules added later (inherited ones too)', async () => {
    const pipe = createValidationPipe();
    const storage = getMetadataStorage();
    const first = storage.getTargetValidationMetadatas(NameDto, '', false, false);
    expect(storage.getTargetValidationMetadatas(NameDto, '', false, false)).toBe(first);
    expect(storage.groupByPropertyName(first)).toBe(storage.groupByPropertyName(first));

    // Defined after the memo filled: its own rule and the one it inherits both apply.
    class LaterDto extends NameDto {
      @IsInt()
      count!: number;
    }
    expect(storage.getTargetValidationMetadatas(LaterDto, '', false, false).map((rule) => rule.propertyName).sort()).toEqual(['count', 'name']);
    const refused = await Promise.resolve(pipe.transform({ name: 2, count: 'x' }, { type: 'body', metatype: LaterDto })).catch((error: unknown) => error);
    expect((refused as DomainError).message).toBe('Validation failed for: count, name');
    await expect(Promise.resolve(pipe.transform({ name: 'a', count: 1 }, { type: 'body', metatype: LaterDto }))).resolves.toBeInstanceOf(LaterDto);
  });
});
