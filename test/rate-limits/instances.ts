import { fork, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { join } from 'node:path';
import { freePort, type TestApp } from '../support/app.js';
import { REDIS_SERVER_PATH, REDIS_TEST_URL } from '../support/requirements.js';

const ROOT = join(import.meta.dirname, '../..');
const children = new Set<ChildProcess>();
/** `exitCode` stays null for a process that a signal ended. */
const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** An API instance in its own process (its own passport, caches and dev identity provider), on its own port. */
export interface Instance {
  baseUrl: string;
  port: number;
  pid: number;
  /** Everything the process printed (banner and JSON log lines). */
  output(): string;
  request(path: string, init?: RequestInit): Promise<Response>;
  /** An access token from this instance's embedded identity provider (password grant). */
  token(username: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Starts `src/main.ts` in a child process against this test file's database. Test helpers that take a {@link TestApp}
 * work with `asTestApp(instance)` for the parts they use (`request`, `config.oidcIssuer`).
 */
export async function startInstance(env: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = fork(join(import.meta.dirname, 'instance/entry.mjs'), [], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: process.env.DATABASE_URL,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: baseUrl,
      LOG_LEVEL: 'info',
      ...env,
    },
    execArgv: [],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  children.add(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 60_000;
  while (!output.includes('Questline API listening') && !exited(child) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (!output.includes('Questline API listening')) {
    child.kill('SIGKILL');
    throw new Error(`instance did not start:\n${output}`);
  }
  const request = (path: string, init?: RequestInit) => fetch(`${baseUrl}${path}`, init);
  return {
    baseUrl,
    port,
    pid: child.pid!,
    output: () => output,
    request,
    async token(username: string) {
      const response = await request('/realms/questline/protocol/openid-connect/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'password', client_id: 'questline-swagger', username, password: username, scope: 'openid' }),
      });
      if (response.status !== 200) throw new Error(`token: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { access_token: string }).access_token;
    },
    async stop() {
      children.delete(child);
      if (exited(child)) return;
      const exit = once(child, 'exit');
      child.disconnect();
      await Promise.race([exit, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (!exited(child)) child.kill('SIGKILL');
    },
  };
}

/** The parts of {@link TestApp} the shared fixtures use. */
export function asTestApp(instance: Instance): TestApp {
  return { request: instance.request, baseUrl: instance.baseUrl } as TestApp;
}

/** A Redis URL of REDIS_TEST_URL whose keys carry a prefix of their own (ioredis reads options from the query). */
export function isolatedRedisUrl(base = REDIS_TEST_URL): string {
  const url = new URL(base);
  url.searchParams.set('keyPrefix', `questline-test:${randomBytes(6).toString('hex')}:`);
  return url.toString();
}

/** A throwaway redis-server of our own, which a test can stop and start again on the same port. */
export class RedisServer {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async restart(): Promise<void> {
    const child = spawn(REDIS_SERVER_PATH, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    this.child = child;
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    const deadline = Date.now() + 10_000;
    while (!output.includes('Ready to accept connections') && !exited(child) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (!output.includes('Ready to accept connections')) throw new Error(`redis-server did not start:\n${output}`);
  }

  /** Kills the server at once (SIGKILL: no goodbye to clients, as a crash). */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || exited(child)) return;
    const exit = once(child, 'exit');
    child.kill('SIGKILL');
    await exit;
    children.delete(child);
  }
}
