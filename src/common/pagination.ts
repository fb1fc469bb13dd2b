import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { validationFailed } from './validation.js';

/** `page`, `page_size` and `ordering` of every list (API.md §0). */
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, default: 1 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  page?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 10 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  page_size?: number;

  @ApiPropertyOptional({ description: 'An allowed field, prefixed with "-" for descending order.' })
  @IsOptional()
  @IsString()
  ordering?: string;
}

export class SearchOptionsDto {
  @ApiProperty() ordering: string;
  @ApiProperty() page: number;
  @ApiProperty() page_size: number;
  @ApiProperty() total_count: number;
}

export interface Page<T> {
  items: T[];
  search_options: SearchOptionsDto;
}

export interface ResolvedPage {
  page: number;
  pageSize: number;
  offset: number;
  ordering: string;
  /** Column (from the allow-list) and direction to order by. */
  column: string;
  direction: 'ASC' | 'DESC';
}

/**
 * Resolves list parameters against an allow-list of orderings (`ordering` name → SQL column). An ordering outside
 * the list is a 422, never a raw column name in SQL.
 */
export function resolvePage(query: PageQueryDto, allowed: Record<string, string>, fallback: string): ResolvedPage {
  const ordering = query.ordering ?? fallback;
  const name = ordering.startsWith('-') ? ordering.slice(1) : ordering;
  // Own keys only: `constructor`, `toString` or `__proto__` must not resolve to Object.prototype and land in the SQL.
  const column = Object.hasOwn(allowed, name) ? allowed[name] : undefined;
  if (!column) {
    throw validationFailed([{ field: 'ordering', message: `ordering must be one of ${Object.keys(allowed).map((key) => `${key}, -${key}`).join(', ')}` }]);
  }
  const page = query.page ?? 1;
  const pageSize = query.page_size ?? 10;
  return { page, pageSize, offset: (page - 1) * pageSize, ordering, column, direction: ordering.startsWith('-') ? 'DESC' : 'ASC' };
}

export function toPage<T>(items: T[], total: number, resolved: ResolvedPage): Page<T> {
  return {
    items,
    search_options: { ordering: resolved.ordering, page: resolved.page, page_size: resolved.pageSize, total_count: total },
  };
}

/**
 * Runs a list query one page at a time: the resolved ordering, then the id as a tie-breaker (so pages never overlap),
 * and the total count, mapped to the list envelope.
 */
export async function fetchPage<Row extends ObjectLiteral, Item>(
  builder: SelectQueryBuilder<Row>,
  resolved: ResolvedPage,
  toItem: (row: Row) => Item,
): Promise<Page<Item>> {
  const [rows, total] = await builder
    .orderBy(resolved.column, resolved.direction, 'NULLS LAST')
    .addOrderBy(`${builder.alias}.id`, 'ASC')
    .offset(resolved.offset)
    .limit(resolved.pageSize)
    .getManyAndCount();
  return toPage(rows.map(toItem), total, resolved);
}
