import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/app.js';

/** One request on its own connection: its status, or the error code of the connection. */
function probe(port: number, path: string): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode }));
      response.on('error', () => resolve({ error: 'RESPONSE_CUT' })); // an accepted request lost its answer
    });
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }));
    request.end();
  });
}

// `npm start` with no configuration at all (only a free port and a scratch data directory, so it can't collide
// with a developer's own instance): the built app launches its embedded PostgreSQL and dev identity provider.
describe('npm start with no configuration', () => {
  let child: ChildProcess | undefined;
  let dataRoot: string | undefined;
  afterAll(async () => {
    if (child && child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    if (dataRoot) await rm(dataRoot, { recursive: true, force: true });
  });

  it('serves /health and /docs, then stops cleanly on SIGTERM', { timeout: 180_000 }, async () => {
    const port = await freePort();
    dataRoot = await mkdtemp('/tmp/questline-start-');
    await chmod(dataRoot, 0o755); // as root, PostgreSQL runs as `postgres`, which must reach the directory
    child = spawn('npm', ['start', '--silent'], {
      cwd: join(import.meta.dirname, '../..'),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), EMBEDDED_POSTGRES_DIR: join(dataRoot, 'postgres') },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (chunk) => (output += chunk));
    child.stderr!.on('data', (chunk) => (output += chunk));
    const deadline = Date.now() + 150_000;
    while (!output.includes('Swagger UI') && Date.now() < deadline && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(output, output).toContain(`Questline API listening on http://localhost:${port}/api/v1`);
    expect(output).toContain(`http://localhost:${port}/docs`);
    expect(output).toMatch(/embedded PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+/);

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/health/ready`)).status).toBe(200);
    const docs = await fetch(`http://127.0.0.1:${port}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger-ui');
    const discovery = await fetch(`http://127.0.0.1:${port}/realms/questline/.well-known/openid-configuration`);
    expect(discovery.status).toBe(200);

    const pgPort = Number(/127\.0\.0\.1:(\d+)/.exec(output.slice(output.indexOf('Database:')))![1]);
    // SIGTERM under load (as an orchestrator sends it): requests already accepted finish with an answer, new
    // connections are refused, the process exits 0 within 10 s and its PostgreSQL stops with it.
    const apiPid = Number(/\(pid (\d+)\)/.exec(output)![1]);
    const exited = once(child, 'exit');
    const outcomes: Array<{ status?: number; error?: string }> = [];
    let loading = true;
    const workers = Array.from({ length: 16 }, async () => {
      while (loading) {
        const outcome = await probe(port, '/health/ready');
        outcomes.push(outcome);
        if (outcome.error) break; // the server is gone for this client
      }
    });
    // Under load means answers are flowing: wait for some (a fixed delay gave too few on a slow machine), at most 10 s.
    for (const until = Date.now() + 10_000; outcomes.filter((outcome) => outcome.status !== undefined).length < 40 && Date.now() < until; ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const stoppedAt = Date.now();
    process.kill(apiPid, 'SIGTERM');
    const [code] = await exited;
    const shutdownMs = Date.now() - stoppedAt;
    loading = false;
    await Promise.all(workers);
    console.info(`graceful shutdown under load: exit code ${code} after ${shutdownMs} ms`);
    expect(code).toBe(0);
    expect(shutdownMs).toBeLessThan(10_000);
    const answered = outcomes.filter((outcome) => outcome.status !== undefined);
    expect(answered.length).toBeGreaterThan(20);
    expect(answered.every((outcome) => outcome.status === 200 || outcome.status === 503)).toBe(true);
    const failures = outcomes.filter((outcome) => outcome.error !== undefined).map((outcome) => outcome.error);
    // Connections still in the listen backlog when the server closes are reset, later ones refused; a request
    // that was being answered is never cut.
    expect(failures.every((error) => error === 'ECONNREFUSED' || error === 'ECONNRESET'), failures.join(',')).toBe(true);
    // The embedded PostgreSQL went down with it.
    const { Socket } = await import('node:net');
    const refused = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('error', () => resolve(true));
      socket.connect(pgPort, '127.0.0.1', () => {
        socket.destroy();
        resolve(false);
      });
    });
    expect(refused).toBe(true);
  });
});
