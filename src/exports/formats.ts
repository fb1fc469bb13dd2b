export const EXPORT_FORMATS = ['csv', 'json', 'xlsx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

export type ExportRow = Record<string, unknown>;

/** `users_20261125T160703Z.csv`: the dataset and the UTC time of the request. */
export function exportFilename(dataset: string, format: ExportFormat, at: Date): string {
  const stamp = at.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');
  return `${dataset}_${stamp}.${format}`;
}

/** A cell as text: timestamps in ISO 8601 UTC, JSON values (jsonb) as JSON text, null as empty. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A cell as a spreadsheet value: numbers and booleans stay typed, everything else is text as in {@link cellText}. */
export function cellValue(value: unknown): string | number | boolean | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return cellText(value);
}

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV field (RFC 4180). Text starting with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed with `'`
 * so spreadsheets don't run it as a formula (OWASP "CSV injection"); numbers are left alone, so `-5` stays a number.
 */
export function csvField(value: unknown): string {
  let text = cellText(value);
  if (typeof value !== 'number' && FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(values: unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/** Text encoders of the two text formats: a header, then each batch of rows, then a footer. */
export interface RowEncoder {
  header(columns: string[]): string;
  batch(columns: string[], rows: ExportRow[], first: boolean): string;
  footer(): string;
}

export const csvEncoder: RowEncoder = {
  header: (columns) => csvLine(columns),
  batch: (columns, rows) => rows.map((row) => csvLine(columns.map((column) => row[column]))).join(''),
  footer: () => '',
};

/** A JSON array written as it streams: one object per row, keys in column order. */
export const jsonEncoder: RowEncoder = {
  header: () => '[',
  batch: (columns, rows, first) =>
    rows
      .map((row, index) => {
        const ordered: ExportRow = {};
        for (const column of columns) ordered[column] = row[column] ?? null;
        return `${first && index === 0 ? '\n' : ',\n'}${JSON.stringify(ordered)}`;
      })
      .join(''),
  footer: () => '\n]\n',
};
