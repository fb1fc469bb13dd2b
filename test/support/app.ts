import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createApp } from '../../src/app.setup.js';
import { loadConfig, type AppConfig } from '../../src/config/config.schema.js';
import type { DevIdentityProvider } from '../../src/dev-idp/dev-identity-provider.js';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Every log line the app wrote, as text and parsed. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  _write(chunk: Buffer, _encoding: string, callback: () => void) {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    callback();
  }
  get text(): string {
    return this.lines.join('\n');
  }
  records(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

export interface TestApp {
  app: NestFastifyApplication;
  config: AppConfig;
  baseUrl: string;
  logs: LogCapture;
  devIdentityProvider?: DevIdentityProvider;
  /** fetch relative to the app. */
  request(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Boots the real application (the same `createApp` as `main.ts`) on a free port of 127.0.0.1, against this test
 * file's database, with the embedded dev identity provider unless the environment names an issuer.
 */
export async function startTestApp(env: Record<string, string | undefined> = {}): Promise<TestApp> {
  const port = await freePort();
  const merged: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: 'info', ...env, PORT: String(port) };
  if (!env.PUBLIC_URL) merged.PUBLIC_URL = `http://127.0.0.1:${port}`;
  const config = loadConfig(merged);
  const logs = new LogCapture();
  const { app, devIdentityProvider } = await createApp({ config, logDestination: logs });
  await app.listen({ port, host: '127.0.0.1' });
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    app,
    config,
    baseUrl,
    logs,
    devIdentityProvider,
    request: (path, init) => fetch(`${baseUrl}${path}`, init),
    close: () => app.close(),
  };
}

export async function json<T = any>(response: Response): Promise<T> {
  return (await response.json()) as T;
}
