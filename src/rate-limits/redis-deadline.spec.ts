import { once } from 'node:events';
import { createServer, connect, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { RedisUnavailableError, withDeadline } from '../common/redis.service.js';

function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy, as an instance in the middle of a burst of requests
  }
}

/** An echo server and a client whose next reply is a promise. */
async function echo() {
  const server = createServer((socket) => socket.on('data', (data) => socket.write(data)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  return {
    ask: () => {
      const reply = new Promise<string>((resolve) => socket.once('data', (data) => resolve(String(data))));
      socket.write('ping');
      return reply;
    },
    close: () => {
      socket.destroy();
      server.close();
    },
  };
}

describe('the Redis command deadline', () => {
  it('delivers an answer that arrived while the event loop was busy past the deadline (no false outage)', async () => {
    const { ask, close } = await echo();
    const naive = (promise: Promise<string>, ms: number) =>
      Promise.race([promise, new Promise<string>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms))]);
    const plain = naive(ask(), 50);
    blockEventLoop(150);
    await expect(plain).rejects.toThrow('timeout'); // what a plain timer (ioredis' commandTimeout) does
    await new Promise((resolve) => setTimeout(resolve, 20));

    const answer = withDeadline(ask(), 50);
    blockEventLoop(150);
    await expect(answer).resolves.toBe('ping');
    close();
  });

  it('gives up after the deadline when no answer comes', async () => {
    const started = performance.now();
    await expect(withDeadline(new Promise(() => undefined), 50)).rejects.toBeInstanceOf(RedisUnavailableError);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
