import { describe, expect, it } from 'vitest';
import { hostNotes, markdownReport, type BenchReport } from '../bench/report.js';

const row = (id: number, p99Ms: number) => ({ id, connections: 50, rps: 1500, p50Ms: 30, p99Ms, errors: 0, non2xx: 0 });

function report(baselineP99: number, notes?: string[]): BenchReport {
  return {
    runAt: '2026-11-26T13:00:00.000Z',
    machine: { cpus: 2, model: 'Test CPU', node: 'v20.20.2' },
    settings: { durationSeconds: 10, warmupSeconds: 3, runs: 5, pinning: 'none', postgres: 'embedded' },
    scenarios: { awardApiKey: row(5, 59.4), baselineAward: row(6, baselineP99) },
    ratios: { award: 0.9 },
    checks: [{ name: 'award', description: '≥ 0.80 and awardApiKey p99 ≤ 50 ms', evaluated: true, pass: false }],
    ...(notes ? { notes } : {}),
    pass: false,
  };
}

describe('npm run bench: what the targets mean on the machine', () => {
  it('says nothing when the baseline meets the absolute award p99, or when either award scenario did not run', () => {
    expect(hostNotes({ awardApiKey: { p99Ms: 80 }, baselineAward: { p99Ms: 50 } })).toEqual([]);
    expect(hostNotes({ baselineAward: { p99Ms: 70 } })).toEqual([]);
    expect(hostNotes({ awardApiKey: { p99Ms: 70 } })).toEqual([]);
  });

  it('names both award p99s and how much slower the machine is when the hand-written baseline misses 50 ms too', () => {
    const [note, ...rest] = hostNotes({ awardApiKey: { p99Ms: 59.4 }, baselineAward: { p99Ms: 54 } });
    expect(rest).toEqual([]);
    expect(note).toContain("the baseline's own award p99 is 54.00 ms, above the 50 ms target: this machine is 1.08 × slower");
    expect(note).toContain("The app's award p99 is 59.40 ms, 1.10 × the baseline's.");
    expect(note).not.toContain('mix');
    expect(note).toContain('The verdict still counts every absolute target as set.');
  });

  it('scales the mix target by the same factor, for reference, when the mix ran', () => {
    const [note] = hostNotes({ awardApiKey: { p99Ms: 85.08 }, baselineAward: { p99Ms: 78.52 }, gameMix: { p99Ms: 121.31 } });
    expect(note).toContain('this machine is 1.57 × slower');
    expect(note).toContain("the mix's 100 ms would be 157.04 ms; it measured 121.31 ms.");
  });

  it('puts the notes under the README table, and renders results written before notes existed', () => {
    const notes = hostNotes(report(54).scenarios);
    const markdown = markdownReport(report(54, notes));
    expect(markdown).toContain('Overall: **FAIL**.');
    expect(markdown.indexOf(`Note: ${notes[0]}`)).toBeGreaterThan(markdown.indexOf('Overall'));
    expect(markdownReport(report(54))).not.toContain('Note:');
  });
});
