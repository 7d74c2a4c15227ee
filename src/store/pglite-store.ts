import { mkdirSync } from 'node:fs';
import { PGlite, Transaction } from '@electric-sql/pglite';
import { detectFlavor } from './migrations';
import { CopyFormat, SqlClient } from './sql-client';
import { SqlStore } from './sql-store';

/**
 * The embedded store: PostgreSQL compiled to WASM, in-process, data in a local directory.
 * One PGlite instance owns its directory: two instances on the same directory (two threads, two
 * processes) corrupt it, so every read and write of a data directory goes through one Store.
 */
class PgliteClient implements SqlClient {
  private readonly db: PGlite | Transaction;

  constructor(db: PGlite | Transaction) {
    this.db = db;
  }

  async rows(text: string, params: readonly unknown[]): Promise<unknown[][]> {
    return (await this.db.query<unknown[]>(text, params as unknown[], { rowMode: 'array' })).rows;
  }

  async exec(text: string): Promise<void> {
    await this.db.exec(text);
  }

  /** PGlite serves COPY FROM through a virtual file, /dev/blob, holding the given Blob. */
  async copyFrom(target: string, format: CopyFormat, bytes: Buffer): Promise<void> {
    await this.db.query(`copy ${target} from '/dev/blob' with (format ${format})`, [], { blob: new Blob([new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length)]) });
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return (this.db as PGlite).transaction((tx) => fn(new PgliteClient(tx)));
  }

  close(): Promise<void> {
    return (this.db as PGlite).close();
  }
}

/** The SqlClient over a PGlite instance (for tests and tools that need raw SQL beside a store). */
export function pgliteClient(db: PGlite): SqlClient {
  return new PgliteClient(db);
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
