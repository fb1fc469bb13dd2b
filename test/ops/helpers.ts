import { createPrivateKey, createSign } from 'node:crypto';
import pg from 'pg';
import { DEV_SIGNING_KEY, DEV_SIGNING_KEY_ID } from '../../src/dev-idp/dev-signing-key.js';
import type { TestApp } from '../support/app.js';

/** Prometheus text → value by `name{label="value",…}` (labels sorted); histogram buckets included. */
export function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`unparseable metrics line: ${line}`);
    const labels = [...(match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(([, name, value]) => [name, value] as const);
    samples.set(sampleKey(match[1], Object.fromEntries(labels)), Number(match[3]));
  }
  return samples;
}

export function sampleKey(name: string, labels: Record<string, string> = {}): string {
  const pairs = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([label, value]) => `${label}="${value}"`);
  return `${name}{${pairs.join(',')}}`;
}

/** Reads one sample; an absent series reads as 0. */
export function sample(samples: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  return samples.get(sampleKey(name, labels)) ?? 0;
}

/** An RFC 4180 parser (quoted fields, doubled quotes, CRLF or LF line ends, newlines inside quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"';
        index++;
      } else if (char === '"') {
        quoted = false;
      } else {
        field += char;
      }
    } else if (char === '"' && field === '') {
      quoted = true;
    } else if (char === ',') {
      row.push(field);
      field = '';
    } else if (char === '\r' && text[index + 1] === '\n') {
      continue;
    } else if (char === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else {
      field += char;
    }
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** A token signed with the dev identity provider's (public, dev-only) key, with any claims — e.g. long expired. */
export function devToken(t: TestApp, claims: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const header = b64({ alg: 'RS256', typ: 'JWT', kid: DEV_SIGNING_KEY_ID });
  const payload = b64({ iss: t.config.oidcIssuer, aud: 'account', sub: 'alice', iat: now, exp: now + 300, ...claims });
  const signature = createSign('RSA-SHA256')
    .update(`${header}.${payload}`)
    .sign(createPrivateKey({ key: DEV_SIGNING_KEY as never, format: 'jwk' }))
    .toString('base64url');
  return `${header}.${payload}.${signature}`;
}

/** A direct connection to this test file's database, for seeding and checks. */
export async function database(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  return client;
}

export async function scrape(t: TestApp, headers: Record<string, string> = {}): Promise<{ text: string; samples: Map<string, number> }> {
  const response = await t.request('/metrics', { headers });
  if (response.status !== 200) throw new Error(`scrape: ${response.status} ${await response.text()}`);
  const text = await response.text();
  return { text, samples: parseMetrics(text) };
}
