/**
 * Waiting for a quiet machine before each measured run. A run that loads PostgreSQL (awards, the mix) leaves work
 * behind it — autovacuum on the tables it grew, the checkpointer, dirty buffers — which would otherwise fall on the
 * next scenario and on it alone (seen: `/auth/me` at half its speed right after the award runs, `/health` at full speed
 * a minute later, so their ratio halved). So after such a run the bench asks for a checkpoint, and before every run it
 * waits until no autovacuum worker runs and the whole machine has been nearly idle for a moment, within a bound.
 */
import { cpus } from 'node:os';
import { machineJiffies } from './processes.js';

export interface QuietWait {
  /** How long the wait took. */
  waitedMs: number;
  /** False when the bound ran out first (the run went ahead anyway; the results say so). */
  quiet: boolean;
  /** Busy cores of the whole machine over the last window looked at. */
  busyCores: number;
}

/** Below this many busy cores (servers, PostgreSQL and the harness all idle) the machine counts as quiet. */
export const QUIET_BUSY_CORES = 0.15;
const WINDOW_MS = 500;
const MAX_WAIT_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Busy cores of the whole machine over `windowMs`, from /proc/stat (undefined where it cannot be read). */
async function busyCores(windowMs: number): Promise<number | undefined> {
  const before = machineJiffies();
  await sleep(windowMs);
  const after = machineJiffies();
  if (!before || !after || after.total === before.total) return undefined;
  return ((after.busy - before.busy) / (after.total - before.total)) * cpus().length;
}

/** Waits (at most 30 s) for no autovacuum worker and fewer than {@link QUIET_BUSY_CORES} busy cores. */
export async function waitForQuiet(autovacuumWorkers: () => Promise<number>): Promise<QuietWait> {
  const start = Date.now();
  for (;;) {
    const busy = await busyCores(WINDOW_MS);
    if (busy === undefined) return { waitedMs: Date.now() - start, quiet: true, busyCores: 0 };
    const quiet = busy < QUIET_BUSY_CORES && (await autovacuumWorkers()) === 0;
    const waitedMs = Date.now() - start;
    if (quiet || waitedMs >= MAX_WAIT_MS) return { waitedMs, quiet, busyCores: Math.round(busy * 100) / 100 };
  }
}
