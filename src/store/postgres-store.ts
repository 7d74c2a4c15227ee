import * as net from 'node:net';
import postgres from 'postgres';
import { detectFlavor } from './migrations';
import { CopyFormat, SqlClient } from './sql-client';
import { SqlStore } from './sql-store';

export interface PostgresOptions {
  /** Pool size (default 4: one writer and readers for the history APIs). */
  max?: number;
  /** Seconds to wait for a TCP connection (default 10). */
  connectTimeout?: number;
}

/** The parts of postgres.js's parsed options its `socket` hook receives. */
interface SocketTarget {
  host: string[];
  port: number[];
  path?: string | false;
}

/**
 * postgres.js sockets with Nagle's algorithm off. Its own sockets leave it on, and a COPY then
 * ends with a small CopyDone packet held back until the server's delayed ACK of the data before
 * it (~40 ms per batch: measured 145k rows/s against 450k with no-delay). Hosts are tried in
 * order, as postgres.js does with its own sockets; postgres.js calls this again to reconnect.
 */
function noDelaySocket(connectTimeoutMs: number): (target: SocketTarget) => Promise<net.Socket> {
  return async (target) => {
    if (target.path) return connect(net.connect(target.path), connectTimeoutMs);
    let failure: unknown;
    for (let i = 0; i < target.host.length; i++) {
      try {
        const socket = await connect(net.connect(target.port[i] ?? target.port[0], target.host[i]), connectTimeoutMs);
        socket.setNoDelay(true);
        return socket;
      } catch (error) {
        failure = error;
      }
    }
    throw failure;
  };
}

function connect(socket: net.Socket, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(Object.assign(new Error('connect timeout'), { code: 'CONNECT_TIMEOUT' })), timeoutMs);
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

/** A postgres.js pool with no-delay sockets, numbers for int8 left to the caller (strings). */
export function connectPostgres(url: string, options: PostgresOptions = {}): postgres.Sql {
  const connectTimeout = options.connectTimeout ?? 10;
  return postgres(url, {
    max: options.max ?? 4,
    connect_timeout: connectTimeout,
    // "relation already exists, skipping" from the staging tables' create-if-not-exists.
    onnotice: () => undefined,
    socket: noDelaySocket(connectTimeout * 1000),
  } as postgres.Options<{}>);
}

/**
 * COPY … FROM STDIN through postgres.js's writable. postgres.js 3.4.9 never settles that stream
 * when the server rejects the COPY after its last byte (porsager/postgres#1173, fix pending in
 * #1183): the error only reaches the query's reject, which is dead because the query already
 * resolved to the stream. Taking over that reject turns the hang into the server's error.
 */
async function copyIn(query: postgres.PendingQuery<postgres.Row[]>, bytes: Buffer): Promise<void> {
  const stream = await query.writable();
  await new Promise<void>((resolve, reject) => {
    (query as unknown as { reject: (error: unknown) => void }).reject = reject;
    stream.once('error', reject);
    stream.end(bytes, () => resolve());
  });
}

class PostgresClient implements SqlClient {
  private readonly sql: postgres.Sql | postgres.TransactionSql;

  constructor(sql: postgres.Sql | postgres.TransactionSql) {
    this.sql = sql;
  }

  async rows(text: string, params: readonly unknown[]): Promise<unknown[][]> {
    return (await this.sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: true }).values()) as unknown[][];
  }

  async exec(text: string): Promise<void> {
    await this.sql.unsafe(text);
  }

  copyFrom(target: string, format: CopyFormat, bytes: Buffer): Promise<void> {
    return copyIn(this.sql.unsafe(`copy ${target} from stdin with (format ${format})`), bytes);
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return (await (this.sql as postgres.Sql).begin((tx) => fn(new PostgresClient(tx)))) as T;
  }

  close(): Promise<void> {
    return (this.sql as postgres.Sql).end({ timeout: 5 });
  }
}

/** The SqlClient over a postgres.js pool (for tests and tools that need raw SQL beside a store). */
export function postgresClient(sql: postgres.Sql): SqlClient {
  return new PostgresClient(sql);
}

/**
 * Connects to PostgreSQL (TimescaleDB when the server offers it, else native partitioning);
 * call migrate() before use. postgres.js connects lazily, so an unreachable server fails here,
 * on the first query.
 */
export async function openPostgresStore(url: string, options: PostgresOptions = {}): Promise<SqlStore> {
  const client = postgresClient(connectPostgres(url, options));
  try {
    const flavor = await detectFlavor(client, true);
    return new SqlStore(client, flavor === 'timescale' ? 'timescale' : 'postgres', flavor);
  } catch (error) {
    await client.close();
    throw error;
  }
}
