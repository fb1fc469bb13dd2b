/**
 * The README "Performance" table from a results file: `npx tsx test/bench/report.ts [test/bench/results/latest.json]`.
 * `npm run bench` also writes it next to the JSON (`latest.md`).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Row {
  id: number;
  connections: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  serverCpuUsPerRequest?: number;
}
interface Check {
  name: string;
  description: string;
  evaluated: boolean;
  pass: boolean;
  value?: number | string;
}
export interface BenchReport {
  runAt: string;
  machine: { cpus: number; model: string; node: string; loadAverageAtStart?: number[] };
  settings: { durationSeconds: number; warmupSeconds: number; runs: number; pinning: unknown; postgres: string };
  scenarios: Record<string, Row>;
  ratios: Record<string, number | undefined>;
  checks: Check[];
  /** What the targets mean on this machine (`hostNotes`); absent in results written before they existed. */
  notes?: string[];
  pass: boolean;
}

const fmt = (value: number | undefined, digits = 2) => (value === undefined ? '—' : value.toFixed(digits));

/** The absolute latency targets (issue 7), shared by the checks and the notes. */
export const AWARD_P99_MAX_MS = 50;
export const MIX_P99_MAX_MS = 100;

/**
 * What the targets mean on this machine, beside the verdict (which they never change). The p99 targets are absolute,
 * unlike the ratios: when the baseline — the same award transaction written by hand, on the same database — misses
 * 50 ms too, the machine is slower than the one the targets were set on, and the notes say by how much, compare the
 * app's award p99 with the baseline's, and scale the mix's target by the same factor for reference.
 */
export function hostNotes(results: Record<string, Pick<Row, 'p99Ms'>>): string[] {
  const app = results.awardApiKey;
  const baseline = results.baselineAward;
  if (!app || !baseline || baseline.p99Ms <= AWARD_P99_MAX_MS) return [];
  const slower = baseline.p99Ms / AWARD_P99_MAX_MS;
  const mix = results.gameMix;
  return [
    `the baseline's own award p99 is ${fmt(baseline.p99Ms)} ms, above the ${AWARD_P99_MAX_MS} ms target: this machine is ` +
      `${fmt(slower)} × slower than the targets assume, and the absolute p99 target is out of reach for the hand-written ` +
      `transaction too. The app's award p99 is ${fmt(app.p99Ms)} ms, ${fmt(app.p99Ms / baseline.p99Ms)} × the baseline's.` +
      (mix
        ? ` Scaled by the same factor, the mix's ${MIX_P99_MAX_MS} ms would be ${fmt(MIX_P99_MAX_MS * slower)} ms; it measured ${fmt(mix.p99Ms)} ms.`
        : '') +
      ' The verdict still counts every absolute target as set.',
  ];
}

export function markdownReport(report: BenchReport): string {
  const { machine, settings } = report;
  const pinning = typeof settings.pinning === 'string' ? settings.pinning : 'servers on core 1, load generator on core 0';
  const lines = [
    `Run ${report.runAt.slice(0, 16).replace('T', ' ')} UTC on ${machine.cpus} × ${machine.model}, Node ${machine.node}; ` +
      `${settings.runs} runs × ${settings.durationSeconds} s after ${settings.warmupSeconds} s warm-up (medians); ${pinning}; PostgreSQL ${settings.postgres}.`,
    '',
    '| # | scenario | conns | req/s | p50 ms | p99 ms | errors | non-2xx | server µs/req |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...Object.entries(report.scenarios).map(
      ([name, r]) =>
        `| ${r.id} | \`${name}\` | ${r.connections} | ${r.rps.toFixed(0)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${r.errors} | ${r.non2xx} | ${fmt(r.serverCpuUsPerRequest, 0)} |`,
    ),
    '',
    '| target | value | goal | |',
    '|---|---:|---|---|',
    ...report.checks.map((check) => {
      const value = check.name in report.ratios ? fmt(report.ratios[check.name]) : (check.value ?? '—');
      return `| \`${check.name}\` | ${value} | ${check.description} | ${check.evaluated ? (check.pass ? 'pass' : '**FAIL**') : 'not run'} |`;
    }),
    '',
    `Overall: **${report.pass ? 'PASS' : 'FAIL'}**.`,
    ...(report.notes ?? []).map((note) => `\nNote: ${note}`),
  ];
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const file = resolve(process.argv[2] ?? 'test/bench/results/latest.json');
  process.stdout.write(markdownReport(JSON.parse(readFileSync(file, 'utf8')) as BenchReport));
}
