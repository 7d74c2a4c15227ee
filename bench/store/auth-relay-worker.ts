/**
 * The store's owner thread for auth-relay-latency.ts: opens the store as the persistence worker
 * does and serves the SQL relay on the port it is given (the persistence worker's relay, without
 * its rings).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { openStore } from '../../src/store/open-store';
import { serveSqlRelay } from '../../src/store/sql-relay-server';

const data = workerData as { dataDir: string; port: MessagePort };

async function main(): Promise<void> {
  const store = await openStore({ dataDir: data.dataDir });
  serveSqlRelay(data.port, async () => store.sql);
  parentPort!.on('message', async () => {
    await store.close();
    parentPort!.postMessage('closed');
  });
  parentPort!.postMessage('ready');
}

void main();
