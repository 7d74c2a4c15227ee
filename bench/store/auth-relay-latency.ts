import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { ClientStore } from '../../src/auth/client-store';
import { openStore } from '../../src/store/open-store';
import type { SqlClient } from '../../src/store/sql-client';
import { sqlRelayClient } from '../../src/store/sql-relay';
import { runStandalone } from '../standalone';
import { loadAverage } from '../system';

/**
 * AuthRelayLatency: what a key lookup on a cache miss (ClientStore.keyRecordById: api_keys joined
 * to api_clients by primary key, what the credential resolver runs when its LRU has nothing)
 * costs on the embedded store
 *   - direct: PGlite in this thread, as the separate auth PGlite of earlier versions did;
 *   - relayed: through the SQL relay to the thread that owns the store (persistence worker).
 * Open loop at RATE lookups/s: latency from each lookup's scheduled start to its answer, µs,
 * p50/p99/p99.9/max, and lookups/s answered. `seconds` is shared by the two. 1,000 keys of
 * 10 clients, looked up in turn.
 */

const RATE = 50;
const KEYS = 1000;

function histogram() {
  return hdr.build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

async function openLoop(db: SqlClient, keyIds: string[], seconds: number) {
  const clients = new ClientStore(db, new Uint8Array(32));
  const h = histogram();
  const total = Math.max(1, Math.round(seconds * RATE));
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = start + (i * 1000) / RATE;
    const wait = scheduled - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(
      clients.keyRecordById(keyIds[i % keyIds.length]).then((record) => {
        if (record === null) throw new Error('a key went missing');
        h.recordValue(Math.max(1, Math.round((performance.now() - scheduled) * 1000)));
      }),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  const result = { lookups: total, lookupsPerSecond: Math.round(total / elapsed), p50Us: h.getValueAtPercentile(50), p99Us: h.getValueAtPercentile(99), p999Us: h.getValueAtPercentile(99.9), maxUs: h.maxValue };
  h.destroy();
  return result;
}

async function relayed(dataDir: string, keyIds: string[], seconds: number) {
  const channel = new MessageChannel();
  const worker = new Worker(join(__dirname, 'auth-relay-worker.js'), { workerData: { dataDir, port: channel.port2 }, transferList: [channel.port2] });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const relay = sqlRelayClient(channel.port1);
  try {
    return await openLoop(relay, keyIds, seconds);
  } finally {
    await relay.close();
    const closed = new Promise((resolve) => worker.once('message', resolve));
    worker.postMessage('stop');
    await closed;
    await worker.terminate();
  }
}

export async function run({ seconds }: { seconds: number }) {
  const loadBefore = loadAverage();
  const phase = (what: string): void => void process.stderr.write(`auth-relay-latency: ${what}\n`);
  const dataDir = mkdtempSync(join(tmpdir(), 'bookcast-bench-relay-'));
  try {
    const store = await openStore({ dataDir });
    const clients = new ClientStore(store.sql, new Uint8Array(32));
    const keyIds: string[] = [];
    // Few clients: each costs a scrypt hash of its secret, which says nothing about lookups.
    for (let c = 0; c < 10; c++) {
      const { client } = await clients.createClient({ name: `bench-${c}`, clientType: 'external', tier: 'standard' });
      for (let k = 0; k < KEYS / 10; k++) keyIds.push((await clients.createKey({ clientId: client.clientId, name: `k${k}` })).key.keyId);
    }
    phase('keys made');
    const direct = await openLoop(store.sql, keyIds, seconds / 2);
    await store.close();
    phase(`direct: ${JSON.stringify(direct)}`);
    const viaRelay = await relayed(dataDir, keyIds, seconds / 2);
    phase(`relayed: ${JSON.stringify(viaRelay)}`);
    return { rate: RATE, direct, relayed: viaRelay, addedP50Us: viaRelay.p50Us - direct.p50Us, addedP99Us: viaRelay.p99Us - direct.p99Us, loadAverage: { before: loadBefore, after: loadAverage() } };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) runStandalone(run, 15);
