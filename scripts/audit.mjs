#!/usr/bin/env node
// `npm audit` of the production dependencies: fails on a high or critical finding. When the registry's audit
// endpoint cannot be reached (some mirrors refuse it), it says so loudly and does not fail: nothing was checked.
import { spawnSync } from 'node:child_process';

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' });
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  report = { error: { summary: run.stderr.trim() || 'no output' } };
}
const failure = report.error?.summary || report.message || report.error?.code;
if (report.error || report.statusCode) {
  console.warn(`npm audit could not run: ${failure || "unknown error"}. No dependency was checked.`);
  process.exit(0);
}
const counts = report.metadata?.vulnerabilities ?? {};
const serious = (counts.high ?? 0) + (counts.critical ?? 0);
console.log(`npm audit (production dependencies): ${JSON.stringify(counts)}`);
for (const [name, finding] of Object.entries(report.vulnerabilities ?? {})) {
  if (finding.severity === 'high' || finding.severity === 'critical') console.log(`  ${finding.severity}: ${name} (${finding.range})`);
}
process.exit(serious > 0 ? 1 : 0);
