import type { MessagePort } from 'node:worker_threads';
import type { SqlClient } from './sql-client';
import type { SqlRelayAnswer, SqlRelayRequest } from './sql-relay-protocol';

/**
 * A transaction the front has not ended by then is rolled back: while it is open the embedded
 * store runs nothing else (PGlite runs one transaction at a time), so a lost `commit` must not
 * hold the market data's writes back for more than this.
 */
export const RELAY_TX_TIMEOUT_MS = 10_000;

interface OpenTransaction {
  client: SqlClient;
  end: (commit: boolean) => void;
  /** The transaction's outcome: resolves once committed, rejects once rolled back or if COMMIT failed. */
  settled: Promise<void>;
}

const ROLLED_BACK = 'rolled back';

/**
 * The persistence worker's end of the SQL relay (sql-relay-protocol.ts). It is the urgent lane:
 * its statements go straight to the store's connection, past the read gate (read-gate.ts) where
 * history reads wait for their turn, so a key lookup never waits for that queue; PGlite runs one
 * statement (or transaction) at a time, so it still waits for what is already inside it.
 * `connection` gives the store's current connection (the worker reopens it after a failure).
 */
export function serveSqlRelay(port: MessagePort, connection: () => Promise<SqlClient>, txTimeoutMs = RELAY_TX_TIMEOUT_MS): void {
  const open = new Map<number, OpenTransaction>();
  let nextTx = 1;

  const begin = async (): Promise<number> => {
    const db = await connection();
    const tx = nextTx++;
    return new Promise<number>((started, failed) => {
      let begun = false;
      let timer: NodeJS.Timeout | undefined;
      let settled!: Promise<void>;
      settled = db.transaction(
        (client) =>
          new Promise<void>((commit, rollback) => {
            begun = true;
            const end = (ok: boolean): void => {
              clearTimeout(timer);
              if (ok) commit();
              else rollback(new Error(ROLLED_BACK));
            };
            timer = setTimeout(() => end(false), txTimeoutMs);
            // The callback runs after BEGIN has gone through, so `settled` is assigned by now.
            open.set(tx, { client, end, settled });
            started(tx);
          }),
      );
      settled.then(
        () => open.delete(tx),
        (err: unknown) => {
          open.delete(tx);
          // A failed BEGIN never reaches the callback: its error is the answer to `begin`.
          if (!begun) failed(err);
        },
      );
    });
  };

  const transactionOf = (tx: number): OpenTransaction => {
    const t = open.get(tx);
    if (t === undefined) throw new Error(`no open transaction ${tx} (rolled back after ${txTimeoutMs} ms?)`);
    return t;
  };

  const finish = async (tx: number, commit: boolean): Promise<null> => {
    const t = transactionOf(tx);
    t.end(commit);
    try {
      await t.settled;
    } catch (err) {
      // A rollback asked for is no error; a COMMIT that failed is the caller's.
      if (commit) throw err;
    }
    return null;
  };

  const on = async (tx: number): Promise<SqlClient> => (tx === 0 ? connection() : transactionOf(tx).client);

  const run = async (r: SqlRelayRequest): Promise<unknown[][] | number | null> => {
    switch (r.op) {
      case 'rows':
        return (await on(r.tx)).rows(r.text, r.params);
      case 'exec':
        await (await on(r.tx)).exec(r.text);
        return null;
      case 'copy':
        await (await on(r.tx)).copyFrom(r.target, r.format, Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.length));
        return null;
      case 'begin':
        return begin();
      default:
        return finish(r.tx, r.op === 'commit');
    }
  };

  port.on('message', (r: SqlRelayRequest) => {
    run(r).then(
      (rows) => port.postMessage({ id: r.id, ok: true, rows } satisfies SqlRelayAnswer),
      (err: unknown) => {
        const code = (err as { code?: unknown }).code;
        port.postMessage({ id: r.id, ok: false, code: typeof code === 'string' ? code : null, message: String((err as Error).message ?? err) } satisfies SqlRelayAnswer);
      },
    );
  });
}
