/**
 * What the SQL layer needs from a driver: the one seam between the shared store code (one
 * schema, one set of statements) and PGlite or postgres.js.
 */
export type CopyFormat = 'binary' | 'text';

export interface SqlClient {
  /** One statement with $n parameters; rows as arrays in select-list order. */
  rows(text: string, params: readonly unknown[]): Promise<unknown[][]>;
  /** Statements without parameters, possibly several separated by semicolons. */
  exec(text: string): Promise<void>;
  /** COPY `target` (a table and its column list) from the bytes, in the given COPY format. */
  copyFrom(target: string, format: CopyFormat, bytes: Buffer): Promise<void>;
  /** Runs fn in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
