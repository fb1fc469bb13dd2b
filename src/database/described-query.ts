import pg from 'pg';
import type { PreparedStatement } from './prepared.js';

/** What pg's `Result` builds from a RowDescription: the columns, their parsers, and the empty row it copies per row. */
interface RowsDescription {
  fields: unknown[];
  parsers: unknown[];
  emptyRow: object;
}

/** The parts of pg's `Query` and `Result` this class builds on (pg 8: not in its type declarations). */
interface PgResultInternals {
  fields: unknown[];
  _parsers: unknown[];
  _prebuiltEmptyResultObject: object;
}
interface PgConnection {
  bind(config: { portal: string; statement: string; values: unknown[]; binary?: boolean; valueMapper: unknown }): void;
  sync(): void;
}
interface PgQueryInternals {
  name: string;
  portal: string;
  values: unknown[];
  binary?: boolean;
  rows?: number;
  _result: PgResultInternals;
  _accumulateRows: boolean;
  hasBeenParsed(connection: PgConnection): boolean;
  handleError(error: unknown, connection: PgConnection): void;
  _getRows(connection: PgConnection, rows?: number): void;
}
type QueryBase = new (config: { name: string; text: string; values: unknown[]; callback: (error: Error | null, result?: pg.QueryResult) => void }) => object;

const { prepareValue } = (pg as unknown as { utils: { prepareValue: unknown } }).utils;

/** Per connection, per prepared statement: how PostgreSQL described its rows the first time it ran there. */
const descriptions = new WeakMap<PgConnection, Map<string, RowsDescription>>();

/**
 * A named prepared statement that asks PostgreSQL to describe its rows only once per connection. pg's own `Query`
 * sends Parse once, but Bind, Describe, Execute and Sync on every run; PostgreSQL answers each Describe with the
 * statement's RowDescription, which pg then turns into column parsers and an empty row object again — for the award's
 * 25-column read, one of the largest costs pg has per query. A prepared statement's result columns cannot change while
 * it exists (PostgreSQL refuses to run it with a changed result type), so after the first run on a connection the
 * description kept from it is reused and only Bind, Execute and Sync are sent. Errors, timeouts, the pool and
 * everything else are pg's own.
 */
export class DescribedOnceQuery extends (pg.Query as unknown as QueryBase) {
  private connection: PgConnection | undefined;

  constructor(statement: PreparedStatement, values: unknown[], callback: (error: Error | null, result?: pg.QueryResult) => void) {
    super({ name: statement.name, text: statement.text, values, callback });
  }

  /** Run by pg when the connection is free: as pg's `prepare`, without the Describe when the rows are known. */
  prepare(connection: PgConnection): void {
    const self = this as unknown as PgQueryInternals;
    const known = self.hasBeenParsed(connection) ? descriptions.get(connection)?.get(self.name) : undefined;
    if (known === undefined) {
      this.connection = connection; // the description arrives after this; see handleRowDescription
      (pg.Query.prototype as unknown as { prepare(connection: PgConnection): void }).prepare.call(this, connection);
      return;
    }
    try {
      connection.bind({ portal: self.portal, statement: self.name, values: self.values, binary: self.binary, valueMapper: prepareValue });
    } catch (error) {
      // A value pg cannot send (nothing was sent for this run): the statement itself stays prepared.
      connection.sync();
      self.handleError(error, connection);
      return;
    }
    const result = self._result;
    result.fields = known.fields;
    result._parsers = known.parsers;
    result._prebuiltEmptyResultObject = known.emptyRow;
    self._accumulateRows = true; // pg's value for a query with a callback
    self._getRows(connection, self.rows);
  }

  /** pg's handling, then the description is kept for the next runs on this connection. */
  handleRowDescription(message: unknown): void {
    (pg.Query.prototype as unknown as { handleRowDescription(message: unknown): void }).handleRowDescription.call(this, message);
    if (this.connection === undefined) return;
    const result = (this as unknown as PgQueryInternals)._result;
    let byName = descriptions.get(this.connection);
    if (byName === undefined) descriptions.set(this.connection, (byName = new Map()));
    byName.set((this as unknown as PgQueryInternals).name, { fields: result.fields, parsers: result._parsers, emptyRow: result._prebuiltEmptyResultObject });
  }
}

/** Runs `statement` on `client` (see {@link DescribedOnceQuery}); resolves with its rows. */
export function runDescribedOnce<T>(client: pg.ClientBase, statement: PreparedStatement, values: unknown[]): Promise<T[]> {
  return new Promise<T[]>((resolve, reject) => {
    client.query(
      new DescribedOnceQuery(statement, values, (error, result) => {
        if (error) reject(error);
        else resolve(result!.rows as T[]);
      }) as unknown as pg.Submittable,
    );
  });
}
