/** Child processes of the benchmark: spawn (pinned with taskset), wait for readiness, stop, CPU accounting. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export const tasksetAvailable = spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;

export interface Child {
  name: string;
  proc: ChildProcess;
  /** The last lines the child wrote (stdout and stderr), shown when something fails. */
  tail: string[];
  exited: Promise<number | null>;
}

const children = new Set<Child>();

export function liveChildren(): Child[] {
  return [...children].filter((child) => child.proc.exitCode === null && child.proc.signalCode === null);
}

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

/**
 * Starts `node <args>` in its own process group (so a Ctrl-C reaches the harness only, which then stops the
 * children in order), with an IPC channel (so a child notices when the harness dies), pinned to `cpus` when given.
 */
export function startNode(name: string, args: string[], options: { env: NodeJS.ProcessEnv; cpus?: string; cwd?: string }): Child {
  const pinned = options.cpus !== undefined && tasksetAvailable;
  const command = pinned ? 'taskset' : process.execPath;
  const argv = pinned ? ['-c', options.cpus!, process.execPath, ...args] : args;
  const proc = spawn(command, argv, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
  });
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      tail.push(line);
      if (tail.length > 60) tail.shift();
    }
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  // The IPC channel only exists to tell the child when we are gone; it must not keep us alive.
  proc.channel?.unref();
  proc.on('error', (error) => tail.push(`spawn error: ${error.message}`));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const child: Child = { name, proc, tail, exited };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

export function describeExit(child: Child): string {
  return `${child.name} exited (code ${child.proc.exitCode}, signal ${child.proc.signalCode}). Its last output:\n  ${child.tail.join('\n  ')}`;
}

/** Resolves once `url` answers 2xx; rejects when the child exits first or after `timeoutMs`. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(describeExit(child));
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${child.name} did not answer ${url} within ${timeoutMs} ms. Its last output:\n  ${child.tail.join('\n  ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** SIGTERM (or closing the IPC channel), then SIGKILL to the child's process group after `timeoutMs`. */
export async function stopChild(child: Child, options: { how?: 'signal' | 'disconnect'; timeoutMs?: number } = {}): Promise<void> {
  const { proc } = child;
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const timeoutMs = options.timeoutMs ?? 15_000;
  if (options.how === 'disconnect' && proc.connected) proc.disconnect();
  else proc.kill('SIGTERM');
  const timer = setTimeout(() => {
    try {
      if (proc.pid) process.kill(-proc.pid, 'SIGKILL');
    } catch {
      proc.kill('SIGKILL');
    }
  }, timeoutMs);
  await child.exited;
  clearTimeout(timer);
}

/** Last resort on `process.exit`: ask every child still running to stop (synchronous; IPC disconnect does the rest). */
export function signalAllChildrenSync(): void {
  for (const child of liveChildren()) {
    try {
      child.proc.kill('SIGTERM');
    } catch {
      // already gone
    }
  }
}

/** Pins every thread of this process (the load generator) to `cpus`. */
export function pinSelf(cpus: string): boolean {
  if (!tasksetAvailable) return false;
  return spawnSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)], { stdio: 'ignore' }).status === 0;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

/** CPU seconds (user + system) used so far by a process, from /proc; undefined where /proc is not available. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime (fields 14 and 15 of the file)
  } catch {
    return undefined;
  }
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
export function machineJiffies(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = values[3] + (values[4] ?? 0);
    const total = values.reduce((sum, value) => sum + value, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Runs a command to completion with inherited output; throws on a non-zero exit. */
export async function runCommand(command: string, args: string[], cwd: string): Promise<void> {
  const proc = spawn(command, args, { cwd, stdio: 'inherit' });
  const [code] = (await once(proc, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with code ${code}`);
}
