import { mkdirSync } from 'node:fs';
import { PGlite, Transaction } from '@electric-sql/pglite';
import { detectFlavor } from './migrations';
import { CopyFormat, SqlClient } from './sql-client';
import { SqlStore } from './sql-store';

/**
 * The embedded store: PostgreSQL compiled to WASM, in-process, data in a local directory.
 * One PGlite instance owns its directory: two instances on the same directory (two threads, two
 * processes) corrupt it, so every read and write of a data directory goes through one Store.
 *
 * PGlite settles a statement in a microtask, without the event loop, so work that starts each
 * statement when the one before settles (a queue of history reads, a backlog of usage batches)
 * would run whole in one turn of the thread's loop, its timers and doorbell waiting meanwhile: the
 * persistence worker once went 92 s without writing a market batch under a flood of reads
 * (read-flood.test.ts). So each statement or transaction on the instance starts from a macrotask
 * of its own; those inside a transaction run on without one.
 */
class PgliteClient implements SqlClient {
  private readonly db: PGlite | Transaction;
  private readonly yields: boolean;

  constructor(db: PGlite | Transaction, yields: boolean) {
    this.db = db;
    this.yields = yields;
  }

  async rows(text: string, params: readonly unknown[]): Promise<unknown[][]> {
    if (this.yields) await nextTurn();
    return (await this.db.query<unknown[]>(text, params as unknown[], { rowMode: 'array' })).rows;
  }

  async exec(text: string): Promise<void> {
    if (this.yields) await nextTurn();
    await this.db.exec(text);
  }

  /** PGlite serves COPY FROM through a virtual file, /dev/blob, holding the given Blob. */
  async copyFrom(target: string, format: CopyFormat, bytes: Buffer): Promise<void> {
    if (this.yields) await nextTurn();
    await this.db.query(`copy ${target} from '/dev/blob' with (format ${format})`, [], { blob: new Blob([new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)]) });
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    if (this.yields) await nextTurn();
    return (this.db as PGlite).transaction((tx) => fn(new PgliteClient(tx, false)));
  }

  close(): Promise<void> {
    return (this.db as PGlite).close();
  }
}

/** The SqlClient over a PGlite instance (for tests and tools that need raw SQL beside a store). */
export function pgliteClient(db: PGlite): SqlClient {
  return new PgliteClient(db, true);
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Opens (creating if needed) the PGlite database in `dir`; call migrate() before use. */
export async function openPgliteStore(dir: string): Promise<SqlStore> {
  mkdirSync(dir, { recursive: true });
  const client = pgliteClient(await PGlite.create(dir));
  try {
    return new SqlStore(client, 'pglite', await detectFlavor(client, false));
  } catch (error) {
    await client.close();
    throw error;
  }
}
