import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthContext } from '../auth/auth-context.js';
import { forbidden, notFound } from '../common/domain-error.js';
import { fetchPage, resolvePage, type Page } from '../common/pagination.js';
import { validationFailed } from '../common/validation.js';
import { rangeEnd } from '../audit/audit-query.service.js';
import { appLogger, errorForLog } from '../observability/logger.js';
import { DATASET_NAMES, DATASETS, type DatasetDefinition } from './datasets.js';
import { ExportAuditLog } from './export-audit-log.entity.js';
import { ExportCursor } from './export-cursor.js';
import type { ExportHistoryEntryDto, ExportHistoryQueryDto, ExportQueryDto } from './exports.dto.js';
import { CONTENT_TYPES, csvEncoder, exportFilename, jsonEncoder, type ExportFormat, type ExportRow } from './formats.js';
import { xlsxStream } from './xlsx-stream.js';

export const EXPORT_FORBIDDEN = 'Data exports require an authenticated administrator.';
export const DEFAULT_EXPORT_LIMIT = 10_000;
export const MAX_EXPORT_LIMIT = 100_000;
/** Rows per FETCH: about 0.5 MB of output, the most an export holds at once. */
const BATCH_SIZE = 1000;

export interface ExportDownload {
  id: string;
  stream: Readable;
  filename: string;
  contentType: string;
}

/**
 * One export in progress: the cursor it reads, the rows it has sent, and its history row, which it settles exactly
 * once — completed when the last byte has been produced, failed when the database or the client goes away.
 */
class ExportRun {
  rows = 0;
  aborted = false;
  /** Set before the stream is destroyed, so the history names the real cause. */
  failure: unknown = undefined;
  private settled = false;

  constructor(
    private readonly dataSource: DataSource,
    readonly id: string,
    private readonly cursor: ExportCursor,
  ) {}

  async next(): Promise<ExportRow[]> {
    if (this.aborted) return [];
    try {
      const batch = await this.cursor.fetch(BATCH_SIZE);
      this.rows += batch.length;
      return batch;
    } catch (error) {
      this.fail(error);
      throw error;
    }
  }

  fail(error: unknown): void {
    this.failure ??= error;
  }

  /** Called once the response stream has closed; `ended` = every byte was handed over. */
  async settle(ended: boolean): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    this.aborted = true;
    const error = ended ? null : this.failure !== undefined ? 'export failed' : 'client disconnected';
    if (this.failure !== undefined) appLogger().warn({ exportId: this.id, err: errorForLog(this.failure) }, 'export failed');
    await this.cursor.close();
    try {
      await this.dataSource.query(
        `UPDATE export_audit_logs SET status = $2, row_count = $3, error = $4, completed_at = now() WHERE id = $1`,
        [this.id, error ? 'failed' : 'completed', this.rows, error],
      );
    } catch (updateError) {
      appLogger().error({ exportId: this.id, err: errorForLog(updateError) }, 'export history update failed');
    }
  }
}

/**
 * Admin data exports (API.md §10 / issue 6): a dataset streamed from a server-side cursor as CSV, a JSON array or
 * XLSX, so memory stays flat at any size; each run is recorded in `export_audit_logs`.
 */
@Injectable()
export class ExportsService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async start(auth: AuthContext, datasetName: string, query: ExportQueryDto): Promise<ExportDownload> {
    if (!auth.isAdmin || !auth.oauthUserId) throw forbidden(EXPORT_FORBIDDEN);
    const dataset = Object.hasOwn(DATASETS, datasetName) ? DATASETS[datasetName] : undefined;
    if (!dataset) {
      throw notFound(`Export dataset not found: ${datasetName}. Available datasets: ${DATASET_NAMES.join(', ')}.`);
    }
    const format: ExportFormat = query.format ?? 'csv';
    const limit = query.limit ?? DEFAULT_EXPORT_LIMIT;
    const from = query.dateFrom ? new Date(query.dateFrom) : null;
    const to = query.dateTo ? rangeEnd(query.dateTo) : null;
    if (from && to && from.getTime() > to.getTime()) {
      throw validationFailed([{ field: 'dateFrom', message: 'dateFrom must not be after dateTo' }]);
    }

    const requestedAt = new Date();
    const filters = { dateFrom: query.dateFrom ?? null, dateTo: query.dateTo ?? null, limit };
    const [{ id }] = (await this.dataSource.query(
      `INSERT INTO export_audit_logs (dataset, format, filters, requested_by, created_at) VALUES ($1, $2, $3::jsonb, $4, $5) RETURNING id`,
      [dataset.name, format, JSON.stringify(filters), auth.oauthUserId, requestedAt],
    )) as Array<{ id: string }>;

    let cursor: ExportCursor;
    try {
      cursor = await ExportCursor.open(this.dataSource, dataset.sql, [from, to, limit]);
    } catch (error) {
      await this.dataSource
        .query(`UPDATE export_audit_logs SET status = 'failed', error = 'database error', completed_at = now() WHERE id = $1`, [id])
        .catch(() => undefined);
      throw error;
    }
    const run = new ExportRun(this.dataSource, id, cursor);
    const stream = format === 'xlsx' ? this.xlsx(run, dataset) : this.text(run, dataset, format);
    // Whatever ends the response — the last byte, a database error, the client leaving — settles the run once.
    stream.once('close', () => void run.settle(stream.readableEnded));
    return { id, stream, filename: exportFilename(dataset.name, format, requestedAt), contentType: CONTENT_TYPES[format] };
  }

  private text(run: ExportRun, dataset: DatasetDefinition, format: 'csv' | 'json'): Readable {
    const encoder = format === 'csv' ? csvEncoder : jsonEncoder;
    const columns = dataset.columns;
    async function* chunks() {
      yield Buffer.from(encoder.header(columns));
      for (let first = true; ; first = false) {
        const batch = await run.next();
        if (batch.length === 0) break;
        yield Buffer.from(encoder.batch(columns, batch, first));
      }
      yield Buffer.from(encoder.footer());
    }
    // Pull-based: the next batch is fetched only when the response has taken the previous one.
    return Readable.from(chunks(), { objectMode: false });
  }

  private xlsx(run: ExportRun, dataset: DatasetDefinition): Readable {
    return xlsxStream(dataset.name, dataset.columns, run, (error) => run.fail(error));
  }

  async history(auth: AuthContext, query: ExportHistoryQueryDto): Promise<Page<ExportHistoryEntryDto>> {
    if (!auth.isAdmin) throw forbidden(EXPORT_FORBIDDEN);
    const page = resolvePage(query, { created_at: 'log.created_at', dataset: 'log.dataset', status: 'log.status' }, '-created_at');
    const builder = this.dataSource.getRepository(ExportAuditLog).createQueryBuilder('log');
    if (query.dataset) builder.andWhere('log.dataset = :dataset', { dataset: query.dataset });
    if (query.status) builder.andWhere('log.status = :status', { status: query.status });
    return fetchPage(builder, page, (row) => ({
      id: row.id,
      dataset: row.dataset,
      format: row.format,
      filters: row.filters,
      rowCount: row.rowCount,
      status: row.status,
      error: row.error,
      requestedBy: row.requestedBy,
      created_at: row.createdAt.toISOString(),
      completed_at: row.completedAt ? row.completedAt.toISOString() : null,
    }));
  }
}
