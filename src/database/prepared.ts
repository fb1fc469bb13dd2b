// No dependencies: the benchmark's baseline server imports the award's statements too.

/** A statement PostgreSQL parses and plans once per connection, then only executes (a named prepared statement). */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
}

export function prepared(name: string, text: string): PreparedStatement {
  return { name, text };
}
