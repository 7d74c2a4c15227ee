import type { MessagePort } from 'node:worker_threads';
import { BookcastError } from '../errors';
import type { CopyFormat, SqlClient } from './sql-client';
import type { SqlRelayAnswer, SqlRelayRequest } from './sql-relay-protocol';

type Pending = { resolve: (value: unknown) => void; reject: (err: Error) => void };

/** The front thread's end of the SQL relay (sql-relay-protocol.ts): a SqlClient whose statements run in the persistence worker. */
class RelayConnection {
  private readonly waiting = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly port: MessagePort) {
    port.on('message', (a: SqlRelayAnswer) => {
      const pending = this.waiting.get(a.id);
      if (pending === undefined) return;
      this.waiting.delete(a.id);
      if (a.ok) pending.resolve(a.rows);
      else pending.reject(Object.assign(new Error(a.message), { code: a.code ?? undefined }));
    });
    // Unref'd: an idle relay must not keep the process alive.
    port.unref();
  }

  ask(request: DistributiveOmit<SqlRelayRequest, 'id'>): Promise<unknown> {
    if (this.closed) return Promise.reject(new BookcastError('STORE_UNAVAILABLE', 'the SQL relay is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.port.postMessage({ ...request, id } as SqlRelayRequest);
    });
  }

  close(): void {
    this.closed = true;
    this.port.close();
    for (const pending of this.waiting.values()) pending.reject(new BookcastError('STORE_UNAVAILABLE', 'the SQL relay closed'));
    this.waiting.clear();
  }
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

class RelayClient implements SqlClient {
  constructor(
    private readonly connection: RelayConnection,
    /** The transaction these statements run in; 0: none. */
    private readonly tx: number,
  ) {}

  async rows(text: string, params: readonly unknown[]): Promise<unknown[][]> {
    return (await this.connection.ask({ op: 'rows', tx: this.tx, text, params })) as unknown[][];
  }

  async exec(text: string): Promise<void> {
    await this.connection.ask({ op: 'exec', tx: this.tx, text });
  }

  async copyFrom(target: string, format: CopyFormat, bytes: Buffer): Promise<void> {
    await this.connection.ask({ op: 'copy', tx: this.tx, target, format, bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length) });
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    if (this.tx !== 0) throw new BookcastError('STORE_UNAVAILABLE', 'transactions do not nest over the SQL relay');
    const tx = (await this.connection.ask({ op: 'begin' })) as number;
    let result: T;
    try {
      result = await fn(new RelayClient(this.connection, tx));
    } catch (err) {
      await this.connection.ask({ op: 'rollback', tx }).catch(() => undefined);
      throw err;
    }
    await this.connection.ask({ op: 'commit', tx });
    return result;
  }

  async close(): Promise<void> {
    this.connection.close();
  }
}

/** A SqlClient over `port`, whose other end sql-relay-server.ts serves. */
export function sqlRelayClient(port: MessagePort): SqlClient {
  return new RelayClient(new RelayConnection(port), 0);
}
