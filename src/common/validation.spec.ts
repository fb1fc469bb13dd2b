import { getMetadataStorage, IsInt, IsString } from 'class-validator';
import { describe, expect, it } from 'vitest';
import { DomainError } from './domain-error.js';
import { createValidationPipe, nestValidationPipe } from './validation.js';
import { PageQueryDto } from './pagination.js';
import { AwardPointsDto } from '../points/dto/award.dto.js';
import { BulkCreateTasksDto, UpdateTaskDto } from '../tasks/dto/task.dto.js';
import { CreateGameDto } from '../games/dto/game.dto.js';

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

describe('the global pipe on plain objects (validated without ValidationPipe)', () => {
  /** The answer of a pipe, as data: the DTO (its class and fields) or the error's message and field list. */
  async function answerOf(pipe: { transform(value: unknown, metadata: any): unknown }, value: unknown, metadata: object): Promise<unknown> {
    try {
      const result = await pipe.transform(structuredClone(value), metadata);
      return { class: (result as object | undefined)?.constructor?.name, value: JSON.parse(JSON.stringify(result ?? null)) };
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      return { code: error.code, detail: error.detail, options: error.options };
    }
  }

  it("answers as Nest's ValidationPipe with the same options does, for the app's DTOs, valid or not", async () => {
    const pipe = createValidationPipe();
    const reference = nestValidationPipe();
    const task = { externalTaskId: 't-1', params: [{ key: 'base', value: 2 }] };
    const cases: Array<[Function, 'body' | 'query', unknown[]]> = [
      [AwardPointsDto, 'body', [
        { externalUserId: 'user_1' },
        { externalUserId: 'user_1', data: { eventId: 'e-1', nested: [1, { a: null }] }, isSimulated: true },
        { externalUserId: 'not valid!', isSimulated: 'yes', extra: 1 },
        { data: null },
        {},
        { externalUserId: 'u', data: [] },
      ]],
      [BulkCreateTasksDto, 'body', [
        { tasks: [task, { externalTaskId: 't-2' }] },
        { tasks: [task, { externalTaskId: '', params: [{ key: 1 }], unknown: true }, [], 'x'] },
        { tasks: 'none' },
      ]],
      [UpdateTaskDto, 'body', [{ status: 'closed' }, { status: 'gone', params: [{}] }, { strategyId: null }]],
      [CreateGameDto, 'body', [{ externalGameId: 'game-1', platform: 'web' }, { externalGameId: 'g', platform: 1, params: {} }]],
      [PageQueryDto, 'query', [{ page: '2', page_size: '10', ordering: '-name' }, { page: 'x', page_size: '1000' }, {}, { other: '1' }]],
    ];
    const seen = new Set<string>();
    for (const [metatype, type, values] of cases) {
      for (const value of values) {
        const metadata = { type, metatype, data: undefined };
        const expected = await answerOf(reference, value, metadata);
        expect(await answerOf(pipe, value, metadata), `${metatype.name} ${JSON.stringify(value)}`).toEqual(expected);
        seen.add((expected as { code?: string }).code ?? 'valid');
      }
    }
    expect([...seen].sort()).toEqual(['unprocessable', 'valid']);
    // And a query object without a prototype, as query parsers make them.
    const query = Object.assign(Object.create(null), { page: '3' });
    expect(await answerOf(pipe, query, { type: 'query', metatype: PageQueryDto })).toEqual({ class: 'PageQueryDto', value: { page: 3 } });
  });

  it('leaves what is not a plain object to ValidationPipe: no body, a primitive, an array', async () => {
    const pipe = createValidationPipe();
    const reference = nestValidationPipe();
    for (const value of [undefined, null, 'text', 42, [{ name: 'x' }]]) {
      const metadata = { type: 'body', metatype: NameDto, data: undefined };
      expect(await answerOf(pipe, value, metadata), JSON.stringify(value)).toEqual(await answerOf(reference, value, metadata));
    }
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
