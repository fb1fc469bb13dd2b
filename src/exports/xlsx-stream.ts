import { PassThrough, type Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import ExcelJS from 'exceljs';
import { cellValue, type ExportRow } from './formats.js';

/** Bytes the workbook writer may hold before the producer waits for the client to read. */
const MAX_PENDING_BYTES = 1_048_576;
const PACING_POLL_MS = 5;

/** A stream of Node's or of the `readable-stream` package (which exceljs's zip library uses, without `writableLength`). */
interface Pipeable {
  writableLength?: number;
  _writableState?: { length?: number };
}

/**
 * What exceljs's streaming writer holds between the rows we add and the zip it writes: its sheet buffer (a
 * StreamBuf that ignores backpressure) and the zip entry stream fed by it. exceljs exposes no drain signal, so this
 * reads those two buffers (defensively: if the shape ever changes it reports 0 and only the output stream paces).
 */
function heldBytes(sheet: ExcelJS.Worksheet): number {
  const buffer = (sheet as unknown as { _stream?: { buffers?: Array<{ length?: number }>; pipes?: Pipeable[] } })._stream;
  if (!buffer) return 0;
  const buffered = (buffer.buffers ?? []).reduce((sum, chunk) => sum + (chunk.length ?? 0), 0);
  const piped = (buffer.pipes ?? []).reduce((sum, pipe) => sum + (pipe.writableLength ?? pipe._writableState?.length ?? 0), 0);
  return buffered + piped;
}

export interface RowSource {
  /** The next batch; an empty one ends the export. */
  next(): Promise<ExportRow[]>;
  /** True once the response is gone: stop producing. */
  readonly aborted: boolean;
}

/**
 * An XLSX workbook (one sheet, a header row, then a row per record) written as it streams, through exceljs's
 * streaming writer with shared strings and styles off, so memory stays flat. If the source or the writer fails,
 * `onError` hears of it and the output is destroyed.
 */
export function xlsxStream(sheetName: string, columns: string[], source: RowSource, onError: (error: unknown) => void): Readable {
  const output = new PassThrough();
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: output, useStyles: false, useSharedStrings: false });
  const sheet = workbook.addWorksheet(sheetName);

  const waitForReader = async () => {
    while (!source.aborted && (output.readableLength > MAX_PENDING_BYTES || heldBytes(sheet) > MAX_PENDING_BYTES)) {
      await sleep(PACING_POLL_MS);
    }
  };

  const produce = async () => {
    sheet.addRow(columns).commit();
    for (;;) {
      const batch = await source.next();
      if (batch.length === 0 || source.aborted) break;
      for (const row of batch) sheet.addRow(columns.map((column) => cellValue(row[column]))).commit();
      await waitForReader();
    }
    if (source.aborted) return;
    sheet.commit();
    await workbook.commit();
  };
  produce().catch((error: unknown) => {
    onError(error);
    output.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  return output;
}
