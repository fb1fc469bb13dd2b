import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDescribedOnce } from '../../src/database/described-query.js';
import { prepared } from '../../src/database/prepared.js';

/** Counts the protocol messages a client sends, by kind. */
function countMessages(client: pg.Client): Record<string, number> {
  const counts: Record<string, number> = {};
  const connection = (client as unknown as { connection: Record<string, (...args: unknown[]) => unknown> }).connection;
  for (const kind of ['parse', 'bind', 'describe', 'execute', 'sync']) {
    const original = connection[kind].bind(connection);
    connection[kind] = (...args: unknown[]) => {
      counts[kind] = (counts[kind] ?? 0) + 1;
      return original(...args);
    };
  }
  return counts;
}

const SELECT = prepared(
  'test_described_once',
  `SELECT $1::int AS n, $2::text AS label, $3::timestamptz AS at, NULL::int AS nothing, $4::jsonb AS data, ARRAY[1, 2]::int[] AS list`,
);

describe('prepared statements described once per connection', () => {
  let client: pg.Client;
  let other: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: process.env.DATABASE_URL });
    other = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await Promise.all([client.connect(), other.connect()]);
    await client.query('CREATE TABLE described_once (id int PRIMARY KEY)');
  });
  afterAll(async () => {
    await Promise.all([client?.end(), other?.end()]);
  });

  it('asks PostgreSQL for the rows’ description on the first run only, and parses every later row as pg does', async () => {
    const messages = countMessages(client);
    const at = new Date('2026-11-26T10:00:00.123Z');
    const values = (n: number) => [n, `label-${n}`, at, { n, nested: [true, null] }];
    const expected = (n: number) => ({ n, label: `label-${n}`, at, nothing: null, data: { n, nested: [true, null] }, list: [1, 2] });

    expect(await runDescribedOnce(client, SELECT, values(1))).toEqual([expected(1)]);
    expect(messages).toEqual({ parse: 1, bind: 1, describe: 1, execute: 1, sync: 1 });
    for (let n = 2; n <= 4; n++) expect(await runDescribedOnce(client, SELECT, values(n))).toEqual([expected(n)]);
    expect(messages).toEqual({ parse: 1, bind: 4, describe: 1, execute: 4, sync: 4 });
    // The same rows as pg's own prepared query, which describes them on every run.
    const own = await client.query({ name: SELECT.name, text: SELECT.text, values: values(5) });
    expect(await runDescribedOnce(client, SELECT, values(5))).toEqual(own.rows);

    // Another connection has not prepared the statement: it is parsed and described there once too.
    const elsewhere = countMessages(other);
    expect(await runDescribedOnce(other, SELECT, values(6))).toEqual([expected(6)]);
    expect(await runDescribedOnce(other, SELECT, values(7))).toEqual([expected(7)]);
    expect(elsewhere).toMatchObject({ parse: 1, describe: 1, execute: 2 });
  });

  it('answers zero rows, PostgreSQL’s errors and values pg cannot send as before, and the statement keeps working', async () => {
    const insert = prepared('test_described_once_insert', 'INSERT INTO described_once (id) SELECT $1::int WHERE $2::boolean RETURNING id');
    expect(await runDescribedOnce(client, insert, [1, true])).toEqual([{ id: 1 }]);
    expect(await runDescribedOnce(client, insert, [2, false])).toEqual([]);
    const duplicate = await runDescribedOnce(client, insert, [1, true]).catch((error: unknown) => error);
    expect(duplicate).toBeInstanceOf(pg.DatabaseError);
    expect(duplicate).toMatchObject({ code: '23505', constraint: 'described_once_pkey' });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(runDescribedOnce(client, SELECT, [1, 'x', new Date(), cyclic])).rejects.toThrow(TypeError);
    expect(await runDescribedOnce(client, insert, [3, true])).toEqual([{ id: 3 }]);
    expect((await runDescribedOnce<{ n: number }>(client, SELECT, [8, 'y', new Date(0), null]))[0].n).toBe(8);
    expect((await client.query('SELECT count(*)::int AS count FROM described_once')).rows).toEqual([{ count: 2 }]);
  });
});
