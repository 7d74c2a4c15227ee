import type { CopyFormat } from './sql-client';

/**
 * The SQL relay: access control's statements, from the front thread to the persistence worker,
 * which owns the embedded PGlite (one owner per directory). Its own MessagePort, apart from the
 * history queries, so that the worker answers it first (sql-relay-server.ts).
 *
 * A transaction is interactive: `begin` opens one in the worker and answers its number; the
 * statements that name it run inside it, and `commit` or `rollback` ends it. Values cross as
 * structured clones (Date, Uint8Array, arrays and JSON objects survive as they are).
 */
export type SqlRelayRequest =
  /** One statement with $n parameters; `tx` 0: outside any transaction. */
  | { id: number; op: 'rows'; tx: number; text: string; params: readonly unknown[] }
  | { id: number; op: 'exec'; tx: number; text: string }
  | { id: number; op: 'copy'; tx: number; target: string; format: CopyFormat; bytes: Uint8Array }
  | { id: number; op: 'begin' }
  | { id: number; op: 'commit' | 'rollback'; tx: number };

export type SqlRelayAnswer =
  /** `rows` for a statement, the transaction's number for `begin`, null for the others. */
  | { id: number; ok: true; rows: unknown[][] | number | null }
  /** `code`: the SQLSTATE when the database refused, so the caller can tell a unique violation from the rest. */
  | { id: number; ok: false; code: string | null; message: string };
