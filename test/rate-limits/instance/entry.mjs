// A real API instance in its own process: `src/main.ts`, compiled on the fly by SWC. It stops (SIGTERM, the same
// path as in production) when the test process that forked it goes away.
import { register } from 'node:module';

register('./swc-hooks.mjs', import.meta.url);
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
await import('../../../src/main.ts');
