import http from 'node:http';
import net from 'node:net';
import { NASTY_STRINGS } from './fuzz-arbitraries.js';

/** Fixed strings the fuzzer sends (and may store and read back later): their text is input, not a leak. */
const ECHOED_INPUTS = NASTY_STRINGS.join('\n');

/** A request as the fuzzer sends it: raw header pairs (duplicates allowed), any method, any bytes. */
export interface FuzzRequest {
  seq: number;
  op: string;
  method: string;
  /** Path and query, already encoded. */
  path: string;
  headers: Array<[string, string]>;
  body?: Buffer;
  /** Set when the request breaks a rule the spec or API.md says is always refused (so it must not answer 2xx). */
  mustReject?: string;
  /** Bytes written as they are on a fresh socket (malformed HTTP, header values Node's client refuses to send). */
  raw?: Buffer;
  /** The server may drop the connection (body over the limit, malformed HTTP). */
  mayDrop?: boolean;
  notes: string[];
}

export interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  error?: string;
  ms: number;
}

export const agent = new http.Agent({ keepAlive: true, maxSockets: 16, maxFreeSockets: 16 });

/** Header values Node's client sends: ASCII, or UTF-8 bytes passed as latin1 so they go out unchanged. */
export function headerSafe(value: string): string {
  return Buffer.from(value, 'utf8').toString('latin1');
}

/** Whether Node's HTTP client would refuse this header value (control characters other than tab). */
export function clientRefuses(value: string): boolean {
  return /[\u0000-\u0008\u000a-\u001f\u007f]/.test(value) || /[^\u0000-\u00ff]/.test(value);
}

const TIMEOUT_MS = 20_000;
const socketHistory = new WeakMap<object, number[]>();

export function send(baseUrl: URL, request: FuzzRequest, retried = false): Promise<FuzzResponse> {
  if (request.raw) return sendRaw(baseUrl, request.raw);
  const started = performance.now();
  return new Promise((resolve) => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of request.headers) {
      const key = name.toLowerCase();
      const existing = headers[key];
      headers[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    }
    if (request.body !== undefined) headers['content-length'] = String(request.body.length);
    let settled = false;
    const finish = (response: FuzzResponse) => {
      if (settled) return;
      settled = true;
      resolve(response);
    };
    let outgoing: http.ClientRequest;
    try {
      outgoing = http.request(
        // A request the server may refuse at the socket level (oversized headers or body) gets a connection of its
        // own: Node answers 431 and destroys the socket without `Connection: close`, so a pooled socket would be reused dead.
        { host: baseUrl.hostname, port: baseUrl.port, method: request.method, path: request.path, headers, agent: request.mayDrop ? false : agent, setHost: true },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () => {
            // Same for any other bare answer of Node's parser: that socket is about to be closed by the server.
            if (incoming.headers['x-correlation-id'] === undefined && (incoming.statusCode ?? 0) >= 400) incoming.socket?.destroy();
            finish({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(chunks), ms: performance.now() - started });
          });
          incoming.on('error', (error) =>
            finish({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(chunks), error: `response: ${error.message}`, ms: performance.now() - started }),
          );
        },
      );
    } catch (error) {
      finish({ status: 0, headers: {}, body: Buffer.alloc(0), error: `client refused: ${(error as Error).message}`, ms: 0 });
      return;
    }
    outgoing.on('socket', (socket) => {
      const history = socketHistory.get(socket) ?? [];
      socketHistory.set(socket, [...history.slice(-3), request.seq]);
    });
    outgoing.setTimeout(TIMEOUT_MS, () => outgoing.destroy(new Error(`timeout after ${TIMEOUT_MS} ms`)));
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      // A kept-alive socket the server closed just as we reused it: send once more on a fresh one.
      if (!retried && outgoing.reusedSocket && error.code === 'ECONNRESET') {
        settled = true;
        void send(baseUrl, request, true).then(resolve);
        return;
      }
      const where = `${outgoing.reusedSocket ? ' (reused socket)' : ''} socket history ${JSON.stringify(outgoing.socket ? socketHistory.get(outgoing.socket) : null)}`;
      finish({ status: 0, headers: {}, body: Buffer.alloc(0), error: `${error.code ?? ''} ${error.message}${where}${retried ? ' (retried)' : ''}`.trim(), ms: performance.now() - started });
    });
    if (request.body !== undefined) outgoing.end(request.body);
    else outgoing.end();
  });
}

/** Writes bytes on a fresh socket and parses whatever HTTP/1.1 answer comes back before the server closes it. */
export function sendRaw(baseUrl: URL, bytes: Buffer): Promise<FuzzResponse> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: baseUrl.hostname, port: Number(baseUrl.port) });
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve({ ...parseRawResponse(Buffer.concat(chunks)), error, ms: performance.now() - started });
    };
    socket.setTimeout(TIMEOUT_MS, () => finish(`timeout after ${TIMEOUT_MS} ms`));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (complete(Buffer.concat(chunks))) finish();
    });
    socket.on('end', () => finish());
    socket.on('close', () => finish());
    socket.on('error', (error: NodeJS.ErrnoException) => finish(chunks.length > 0 ? undefined : `${error.code ?? ''} ${error.message}`.trim()));
    socket.write(bytes); // not end(): Node's server drops an in-flight request when the client half-closes
  });
}

/** Whether a whole HTTP/1.1 response has arrived (a kept-alive connection would not tell us by closing). */
function complete(data: Buffer): boolean {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return false;
  const head = data.subarray(0, end).toString('latin1');
  const body = data.subarray(end + 4);
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
  if (length !== undefined) return body.length >= Number(length);
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) return body.includes('0\r\n\r\n');
  return /^HTTP\/1\.[01] (?:1\d\d|204|304)/.test(head);
}

function parseRawResponse(data: Buffer): Omit<FuzzResponse, 'ms'> {
  const end = data.indexOf('\r\n\r\n');
  if (end === -1) return { status: 0, headers: {}, body: data };
  const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = data.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  return { status, headers, body };
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset < data.length) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd === -1) break;
    const size = parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

// ------------------------------------------------------------------------------------------------------------
// What every answer must satisfy

const LEAKS: Array<[string, RegExp]> = [
  ['stack frame', /\bat\s+(?:async\s+)?[\w$.<>[\]]+\s+\((?:[^()]*:\d+:\d+|native|<anonymous>)\)/],
  ['stack frame', /^\s+at\s+\S+/m],
  ['source position', /\.(?:ts|js|mjs|cjs):\d+/],
  ['internal path', /\/work\/|node_modules|file:\/\/|\/src\/[\w./-]+\.[cm]?[jt]s\b/],
  ['SQL', /SELECT\s/],
  ['SQL', /INSERT INTO/i],
  ['SQL', /UPDATE\s+"?\w+"?\s+SET\s/i],
  ['SQL', /DELETE FROM/i],
  ['SQL', /QueryFailedError|EntityNotFound|TypeORM/],
  ['SQL', /syntax error at or near/i],
  ['SQL', /violates/i],
  ['SQL', /invalid input syntax|duplicate key value|out of range for type|invalid byte sequence/i],
];

export interface Verdict {
  violations: string[];
  /** A bare answer of Node's HTTP parser (no X-Correlation-ID): 400/431 for malformed HTTP or oversized headers. */
  bare: boolean;
}

/** The text a request carries, so a leak pattern that merely echoes the input isn't counted. */
export function requestText(request: FuzzRequest): string {
  const parts = [request.path, ...request.headers.map(([name, value]) => `${name}: ${value}`)];
  try {
    parts.push(decodeURIComponent(request.path));
  } catch {
    // not decodable: the raw path is enough
  }
  if (request.body) parts.push(request.body.toString('utf8'));
  if (request.raw) parts.push(request.raw.toString('latin1'));
  return parts.join('\n');
}

/** JSON string text as the value it stands for (a snippet cut mid-escape stays as it is). */
function unescapeJson(snippet: string): string {
  try {
    return JSON.parse(`"${snippet}"`) as string;
  } catch {
    return snippet;
  }
}

export function judge(request: FuzzRequest, response: FuzzResponse): Verdict {
  const violations: string[] = [];
  const bare = response.headers['x-correlation-id'] === undefined;
  const head = request.method === 'HEAD';
  if (response.error) {
    if (!(request.mayDrop || request.raw) || /timeout/.test(response.error)) violations.push(`no answer: ${response.error}`);
    if (response.status === 0) return { violations, bare };
  }
  if (response.status >= 500) violations.push(`${response.status} answered`);
  if (response.status >= 400) {
    if (bare) {
      if (![400, 431].includes(response.status)) violations.push(`bare ${response.status} without X-Correlation-ID (only Node's 400/431 may be bare)`);
    } else {
      const contentType = String(response.headers['content-type'] ?? '');
      if (!contentType.startsWith('application/problem+json')) violations.push(`${response.status} with content-type "${contentType}" (want application/problem+json)`);
      let body: Record<string, unknown> | undefined;
      if (head) return { violations, bare }; // no body to a HEAD
      try {
        body = JSON.parse(response.body.toString('utf8')) as Record<string, unknown>;
      } catch {
        violations.push(`${response.status} body is not JSON: ${response.body.toString('utf8').slice(0, 200)}`);
      }
      if (body) {
        for (const field of ['type', 'title', 'detail'] as const) {
          if (typeof body[field] !== 'string') violations.push(`${response.status} problem has no string "${field}"`);
        }
        if (body.status !== response.status) violations.push(`problem status ${String(body.status)} ≠ HTTP ${response.status}`);
      }
    }
  }
  if (request.mustReject && response.status >= 200 && response.status < 400) {
    violations.push(`accepted (${response.status}) although it must be refused: ${request.mustReject}`);
  }
  const text = response.body.toString('utf8');
  if (text.length > 0) {
    // A match that only echoes input (this request's, or a string the fuzzer stored earlier and reads back) is no
    // leak: the dozen characters from the match on must then appear in what was sent.
    const sent = `${requestText(request)}\n${ECHOED_INPUTS}`;
    for (const [kind, pattern] of LEAKS) {
      const match = pattern.exec(text);
      if (!match) continue;
      const snippet = text.slice(match.index, match.index + 12);
      if (sent.includes(snippet) || sent.includes(unescapeJson(snippet))) continue;
      violations.push(`${kind} in the body: ${JSON.stringify(text.slice(Math.max(0, match.index - 60), match.index + 80))}`);
    }
  }
  return { violations, bare };
}

/** Node answers 431 to more than 16 KiB of headers and may close the socket before the client reads it. */
export function oversizedHeaders(headers: Array<[string, string]>): boolean {
  return headers.reduce((total, [name, value]) => total + name.length + Buffer.byteLength(value, 'latin1') + 4, 0) > 15_000;
}

/** A short, reproducible description of a request for failure messages. */
export function describeRequest(request: FuzzRequest): string {
  const cut = (value: string, length = 120) => (value.length > length ? `${value.slice(0, length)}…(${value.length} chars)` : value);
  const headers = request.headers.map(([name, value]) => `${name}: ${cut(JSON.stringify(value), 90)}`).join('; ');
  const body = request.body ? cut(JSON.stringify(request.body.toString('utf8')), 300) : '-';
  const raw = request.raw ? ` raw=${cut(JSON.stringify(request.raw.toString('latin1')), 200)}` : '';
  return `#${request.seq} [${request.op}] ${request.method} ${cut(request.path, 200)} {${headers}} body=${body}${raw} notes=${request.notes.join(',')}`;
}
