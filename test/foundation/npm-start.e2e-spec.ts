import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/app.js';

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
    // SIGTERM to the API process (as an orchestrator sends it): it closes, stops its PostgreSQL and exits 0.
    const apiPid = Number(/\(pid (\d+)\)/.exec(output)![1]);
    const exited = once(child, 'exit');
    const stoppedAt = Date.now();
    process.kill(apiPid, 'SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
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
