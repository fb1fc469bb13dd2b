/** One autocannon run with exact latency percentiles (autocannon's own histogram has 1 ms resolution). */
import { cpus } from 'node:os';
import autocannon from 'autocannon';
import { machineJiffies, processCpuSeconds } from './processes.js';

export type Request = autocannon.Request;

export interface LoadOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  /** A fixed request, or a sequence each connection cycles through (with `setupRequest` to vary it). */
  request?: Request;
  requests?: Request[];
  /** The server under load, for CPU accounting. */
  serverPid?: number;
}

export interface RunResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors and timeouts (autocannon's `errors`, which include `timeouts`). */
  errors: number;
  timeouts: number;
  /** Responses whose status is not 2xx (autocannon's `non2xx`). */
  non2xx: number;
  responses: number;
  statusCodes: Record<string, number>;
  seconds: number;
  /** CPU used during the run, in cores (1 = one core fully busy). */
  cpu: { loadGenerator?: number; server?: number; machine?: number };
  /** Server CPU time per response, in µs: unlike req/s, barely moved by other load on the machine. */
  serverCpuUsPerRequest?: number;
  /** Per request kind (`Request.name`), when a run mixes several. */
  byRequest?: Record<string, { responses: number; p50Ms: number; p99Ms: number; non2xx: number }>;
}

class Latencies {
  values = new Float64Array(1 << 12);
  count = 0;
  non2xx = 0;
  add(value: number) {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.count++] = value;
  }
  sorted() {
    return this.values.subarray(0, this.count).sort();
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index];
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

export async function runLoad(options: LoadOptions): Promise<RunResult> {
  const all = new Latencies();
  const byName = new Map<string, Latencies>();
  const statusCodes: Record<string, number> = {};
  const requests = options.requests ?? [options.request ?? {}];

  const cpuBefore = process.cpuUsage();
  const serverBefore = processCpuSeconds(options.serverPid);
  const machineBefore = machineJiffies();
  const started = process.hrtime.bigint();

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url: options.url, connections: options.connections, duration: options.durationSeconds, pipelining: 1, timeout: 10, requests },
      (error, value) => (error ? reject(error) : resolve(value)),
    );
    // With pipelining 1 the client's current request is the one this response answers.
    type Client = { requestIterator?: { currentRequest?: Request } };
    instance.on('response', (client: Client, statusCode: number, _bytes: number, responseTime: number) => {
      all.add(responseTime);
      statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
      const name = client.requestIterator?.currentRequest?.name;
      if (name !== undefined) {
        let kind = byName.get(name);
        if (!kind) byName.set(name, (kind = new Latencies()));
        kind.add(responseTime);
        if (statusCode < 200 || statusCode > 299) kind.non2xx++;
      }
    });
  });

  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const serverAfter = processCpuSeconds(options.serverPid);
  const machineAfter = machineJiffies();
  const sorted = all.sorted();
  const count = all.count;
  const server = serverBefore !== undefined && serverAfter !== undefined ? round((serverAfter - serverBefore) / seconds) : undefined;
  let byRequest: RunResult['byRequest'];
  if (byName.size > 1) {
    byRequest = {};
    for (const [name, kind] of byName) {
      const values = kind.sorted();
      byRequest[name] = { responses: kind.count, p50Ms: round(percentile(values, 50)), p99Ms: round(percentile(values, 99)), non2xx: kind.non2xx };
    }
  }
  return {
    rps: round(count / seconds, 1),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    responses: count,
    statusCodes,
    seconds: round(seconds),
    cpu: {
      loadGenerator: round((cpu.user + cpu.system) / 1e6 / seconds),
      server,
      machine:
        machineBefore && machineAfter
          ? round(((machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total)) * cpuCores())
          : undefined,
    },
    serverCpuUsPerRequest: server !== undefined && count > 0 ? round(((serverAfter! - serverBefore!) * 1e6) / count, 1) : undefined,
    byRequest,
  };
}

/** Every core of the machine (not `availableParallelism()`, which this pinned process sees as 1). */
const cpuCores = () => cpus().length;
