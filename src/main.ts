import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createApp } from './app.setup.js';
import { ConfigValidationError, loadConfig, type AppConfig } from './config/config.schema.js';
import { appLogger } from './observability/logger.js';

/** Starts the persistent embedded PostgreSQL (used when DATABASE_URL is unset) in a child process. */
async function startEmbeddedPostgres(config: AppConfig): Promise<{ url: string; child: ChildProcess }> {
  const script = join(import.meta.dirname, '../../scripts/pg-cluster.mjs');
  const child = fork(script, ['--data', config.embeddedPostgresDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const message = await new Promise<{ url: string }>((resolve, reject) => {
    child.once('message', (value) => resolve(value as { url: string }));
    child.once('exit', (code) => reject(new Error(`embedded PostgreSQL exited with code ${code}`)));
  });
  return { url: `${message.url}/postgres`, child };
}

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  let embedded: { url: string; child: ChildProcess } | undefined;
  if (!config.databaseUrl) {
    embedded = await startEmbeddedPostgres(config);
    config = { ...config, databaseUrl: embedded.url };
  }

  const stopEmbedded = async () => {
    if (!embedded || embedded.child.exitCode !== null) return;
    const exited = once(embedded.child, 'exit');
    embedded.child.disconnect();
    await exited;
  };

  let app;
  try {
    ({ app } = await createApp({ config }));
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    appLogger().fatal({ err: error instanceof Error ? { type: error.name, message: error.message } : String(error) }, 'startup failed');
    await stopEmbedded();
    process.exit(1);
  }

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    appLogger().info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      appLogger().error('shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    force.unref();
    try {
      await app.close();
    } finally {
      await stopEmbedded();
      appLogger().flush?.();
      process.exit(0);
    }
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  const database = embedded ? `embedded PostgreSQL at ${embedded.url.replace(/:[^:@/]+@/, ':***@')} (data in ${config.embeddedPostgresDir})` : 'PostgreSQL from DATABASE_URL';
  const lines = [
    `Questline API listening on ${config.publicUrl}/api/v1 (pid ${process.pid})`,
    `  Swagger UI:  ${config.publicUrl}/docs   (spec: ${config.publicUrl}/openapi.json)`,
    `  Database:    ${database}`,
    config.devIdentityProvider
      ? `  Identity:    embedded dev OpenID provider at ${config.oidcIssuer} (users admin/admin, alice/alice, bob/bob)`
      : `  Identity:    trusting issuer ${config.oidcIssuer}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
