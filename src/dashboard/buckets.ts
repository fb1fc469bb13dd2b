import { validationFailed } from '../common/validation.js';
import type { Grouping } from './dashboard.dto.js';

const DAY_MS = 86_400_000;
/** At most this many buckets per series (a year of days, or ~7 years of weeks, or ~30 years of months). */
export const MAX_BUCKETS = 366;
export const DEFAULT_RANGE_DAYS = 30;

export interface ResolvedRange {
  /** 00:00 UTC of the first day. */
  start: Date;
  /** 00:00 UTC of the day after the last one (exclusive end). */
  end: Date;
  groupBy: Grouping;
  /** Every bucket label in order, empty buckets included. */
  labels: string[];
}

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

function dayLabel(date: Date): string {
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

/** ISO 8601 week of a UTC day (`2026-W48`); the week-year can differ from the calendar year around New Year. */
export function isoWeekLabel(date: Date): string {
  const thursday = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  thursday.setUTCDate(thursday.getUTCDate() + 3 - ((thursday.getUTCDay() + 6) % 7));
  const weekYear = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(weekYear, 0, 1)) / (7 * DAY_MS));
  return `${weekYear}-W${pad(week)}`;
}

export function bucketLabel(date: Date, groupBy: Grouping): string {
  if (groupBy === 'day') return dayLabel(date);
  if (groupBy === 'week') return isoWeekLabel(date);
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}`;
}

/** The same labels computed by PostgreSQL (UTC), so SQL counts land in the JS buckets. */
export function sqlBucketLabel(column: string, groupBy: Grouping): string {
  const format = groupBy === 'day' ? 'YYYY-MM-DD' : groupBy === 'week' ? 'IYYY-"W"IW' : 'YYYY-MM';
  return `to_char(${column} AT TIME ZONE 'UTC', '${format}')`;
}

/**
 * Validates the range (dates are inclusive, UTC) and lists its buckets. A week or month cut by the range is one
 * bucket holding only the days inside the range.
 */
export function resolveRange(query: { start_date?: string; end_date?: string; group_by?: Grouping }, today = new Date()): ResolvedRange {
  const groupBy = query.group_by ?? 'day';
  const endDay = query.end_date ? new Date(`${query.end_date}T00:00:00.000Z`) : new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate()));
  const start = query.start_date ? new Date(`${query.start_date}T00:00:00.000Z`) : new Date(endDay.getTime() - (DEFAULT_RANGE_DAYS - 1) * DAY_MS);
  if (start.getTime() > endDay.getTime()) {
    throw validationFailed([{ field: 'start_date', message: 'start_date must not be after end_date' }]);
  }
  const days = (endDay.getTime() - start.getTime()) / DAY_MS + 1;
  if (groupBy === 'day' && days > MAX_BUCKETS) {
    throw validationFailed([{ field: 'start_date', message: `the range covers ${days} days; at most ${MAX_BUCKETS} buckets are allowed: narrow it or group by week or month` }]);
  }
  if (days > MAX_BUCKETS * 31) {
    throw validationFailed([{ field: 'start_date', message: `the range covers ${days} days; at most ${MAX_BUCKETS} buckets are allowed` }]);
  }
  const labels: string[] = [];
  for (let time = start.getTime(); time <= endDay.getTime(); time += DAY_MS) {
    const label = bucketLabel(new Date(time), groupBy);
    if (labels[labels.length - 1] !== label) labels.push(label);
  }
  if (labels.length > MAX_BUCKETS) {
    throw validationFailed([{ field: 'start_date', message: `the range has ${labels.length} ${groupBy} buckets; at most ${MAX_BUCKETS} are allowed` }]);
  }
  return { start, end: new Date(endDay.getTime() + DAY_MS), groupBy, labels };
}

/** One series: every label of the range, in order, with the counts SQL found (0 elsewhere). */
export function toSeries(labels: string[], rows: Array<{ label: string; count: string | number }>): Array<{ label: string; count: number }> {
  const counts = new Map(rows.map((row) => [row.label, Number(row.count)]));
  return labels.map((label) => ({ label, count: counts.get(label) ?? 0 }));
}
