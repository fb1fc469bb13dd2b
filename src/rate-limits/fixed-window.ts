/**
 * Fixed windows aligned to the clock: window `n` of length `ttlMs` covers [n·ttl, (n+1)·ttl) in epoch milliseconds.
 * Epoch time has no leap seconds and starts at 00:00 UTC, so a day-long window runs from 00:00 UTC to 00:00 UTC,
 * and every instance (with a synchronised clock) agrees on the window without talking to the others.
 */
export interface FixedWindow {
  /** floor(now / ttl): part of the counter's key. */
  id: number;
  /** Milliseconds until the window ends (≥ 1). */
  remainingMs: number;
}

export function fixedWindow(nowMs: number, ttlMs: number): FixedWindow {
  const id = Math.floor(nowMs / ttlMs);
  return { id, remainingMs: (id + 1) * ttlMs - nowMs };
}

/** A `Retry-After` / `X-RateLimit-Reset` value: whole seconds, at least 1. */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

/** One limit to count a request against. */
export interface WindowCheck {
  /** The counter's identity without the window (limit name + tracker). */
  key: string;
  limit: number;
  ttlMs: number;
}

export interface WindowCount {
  /** Requests counted in the current window, this one included. */
  count: number;
  /** Milliseconds until the window resets. */
  remainingMs: number;
}

/**
 * The outcome of counting one request against an ordered list of limits: the checks are counted in order and
 * counting stops at the first that goes over its limit (`blocked`), so a request refused by one limit is not
 * counted against the later ones.
 */
export interface HitOutcome {
  /** One entry per check counted (up to and including the blocked one). */
  counts: WindowCount[];
  /** Index of the check that went over its limit, or -1. */
  blocked: number;
  /** True when the counters live in Redis (shared by every instance), false when counted in this process. */
  shared: boolean;
}

/** Sweeps expired windows out of the in-memory counters this often. */
const SWEEP_INTERVAL_MS = 30_000;

/**
 * In-process fixed-window counters: one entry per (limit, tracker) holding the current window's end and count, so a
 * request costs a few map operations however hot the key (the stock throttler storage keeps a timestamp per hit).
 * Expired entries are swept on a timer.
 */
export class MemoryWindowCounters {
  private readonly counters = new Map<string, { windowEnd: number; count: number }>();
  private timer: NodeJS.Timeout | undefined;

  hit(checks: readonly WindowCheck[], nowMs: number): HitOutcome {
    this.ensureSweep();
    const counts: WindowCount[] = [];
    for (let index = 0; index < checks.length; index++) {
      const { key, limit, ttlMs } = checks[index];
      const window = fixedWindow(nowMs, ttlMs);
      const windowEnd = nowMs + window.remainingMs;
      let entry = this.counters.get(key);
      if (!entry || entry.windowEnd !== windowEnd) {
        entry = { windowEnd, count: 0 };
        this.counters.set(key, entry);
      }
      entry.count++;
      counts.push({ count: entry.count, remainingMs: window.remainingMs });
      if (entry.count > limit) return { counts, blocked: index, shared: false };
    }
    return { counts, blocked: -1, shared: false };
  }

  /** Drops every window that has ended. */
  sweep(nowMs = Date.now()): void {
    for (const [key, entry] of this.counters) if (entry.windowEnd <= nowMs) this.counters.delete(key);
  }

  get size(): number {
    return this.counters.size;
  }

  clear(): void {
    this.counters.clear();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private ensureSweep(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }
}
