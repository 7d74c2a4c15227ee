/**
 * The store's owner thread for auth-relay-latency.ts: opens the store as the persistence worker
 * does and serves the SQL relay on the port it is given (the persistence worker's relay, without
 * its rings). Optionally keeps history reads running on the same PGlite, as REST clients would.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { openStore } from '../../src/store/open-store';
import { serveSqlRelay } from '../../src/store/sql-relay-server';

const data = workerData as { dataDir: string; port: MessagePort; historyReads: boolean };

async function main(): Promise<void> {
  const store = await openStore({ dataDir: data.dataDir });
  serveSqlRelay(data.port, async () => store.sql);
  let reading = data.historyReads;
  // One history read after another (a day of trades of one symbol): what the relay's statements cut in front of.
  const now = Date.now() * 1000;
  let reads: Promise<void> = Promise.resolve();
  parentPort!.on('message', async () => {
    reading = false;
    await reads;
    await store.close();
    parentPort!.postMessage('closed');
  });
  parentPort!.postMessage('ready');
  reads = (async () => {
    while (reading) await store.trades('BENCH-USD', now - 86_400_000_000, now, 1000, 0);
  })();
}

void main();
