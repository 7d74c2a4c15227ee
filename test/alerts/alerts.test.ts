import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { connectRecorded } from '../helpers/client-recorder';
import { freshDatabase } from '../helpers/postgres';
import { scrape, value } from '../helpers/scrape';
import { startTestServer, TestServer, waitFor } from '../helpers/test-server';
import { openSocket, refusedUpgrade } from '../helpers/ws-connect';

/** Evaluated often, no pending time, so a condition shows as firing as soon as it holds. */
const FAST = ['--alert-interval-ms', '50', '--alert-for-ms', '0'];

interface Alert {
  name: string;
  state: string;
  value: number | null;
  threshold: number;
  detail: string;
  since: string | null;
  fired_at: string | null;
  resolved_at: string | null;
}

async function alert(srv: TestServer, name: string): Promise<Alert> {
  const res = await srv.get('/api/v1/alerts');
  return (res.body.alerts as Alert[]).find((a) => a.name === name)!;
}

async function waitForState(srv: TestServer, name: string, state: string, timeoutMs = 120000): Promise<Alert> {
  let last: Alert | undefined;
  await waitFor(`${name} ${state} (last: ${JSON.stringify(last)})`, async () => (last = await alert(srv, name)).state === state, timeoutMs);
  return last!;
}

t.test('LatencyP99High fires on real deliveries above a low threshold and resolves once nothing is sent in the window', async (t) => {
  const srv = await startTestServer(['--rate', '1000', '--alert-latency-p99-us', '1', '--metrics-window-ms', '1200', ...FAST]);
  t.teardown(() => srv.server.stop());
  t.equal((await alert(srv, 'LatencyP99High')).state, 'inactive', 'nothing delivered yet');
  const { client } = await connectRecorded(srv);
  client.subscribe({ channels: ['l2', 'trades'], symbols: ['BTC/USD'], depth: 10 });
  const firing = await waitForState(srv, 'LatencyP99High', 'firing');
  t.ok(firing.value! > 0.001, `the p99 measured (${firing.value} ms) is above 1 µs`);
  t.equal(firing.threshold, 0.001);
  t.ok(firing.since !== null && firing.since === firing.fired_at, 'firing since');
  client.close();
  const resolved = await waitForState(srv, 'LatencyP99High', 'resolved');
  t.equal(resolved.value, null, 'no message in the window: nothing measured');
  t.ok(resolved.resolved_at !== null && resolved.resolved_at >= firing.fired_at!, 'resolved after it fired');
});

t.test('QueueDepthHigh fires while a client stops reading and resolves once its queue is gone (drained, or closed by the slow-consumer ladder)', async (t) => {
  const srv = await startTestServer([
    '--rate', '4000', '--workers', '2', '--soft-backpressure', '65536', '--max-backpressure', String(512 * 1024 * 1024),
    '--alert-queue-depth', '32768', ...FAST,
  ]);
  t.teardown(() => srv.server.stop());
  const { client: slow } = await connectRecorded(srv);
  slow.pauseReading();
  slow.subscribe({ channels: ['l2', 'l3', 'trades'], symbols: [...srv.symbols.keys()], depth: 100 });
  const firing = await waitForState(srv, 'QueueDepthHigh', 'firing');
  t.ok(firing.value! > 32768, `deepest queue ${firing.value} > 32768`);
  t.match(firing.detail, /^connection_send_buffer \(bytes\)/, 'the stalled connection is the deepest queue');
  // The kernel's socket buffers grow while the client does not read and take bytes from the send
  // buffer now and then, so a scrape a moment later may find less: wait for /metrics to show it.
  await waitFor('/metrics to show the stalled queue over 32768 bytes', async () => (value(await scrape(srv.http), 'bookcast_queue_depth', { queue: 'connection_send_buffer' }) ?? 0) > 32768);
  t.pass('/metrics shows the same queue');
  slow.resumeReading();
  await waitForState(srv, 'QueueDepthHigh', 'resolved');
  slow.close();
});

t.test('ConnectionFailuresHigh fires on refused upgrades above 1% of attempts and resolves when they leave the window', async (t) => {
  const srv = await startTestServer(['--allowed-origins', 'https://app.example.com', '--metrics-window-ms', '1500', ...FAST]);
  t.teardown(() => srv.server.stop());
  const ok = await Promise.all([1, 2, 3].map(() => openSocket(`${srv.url}/ws`, { origin: 'https://app.example.com' })));
  t.equal((await alert(srv, 'ConnectionFailuresHigh')).state, 'inactive', 'three accepted upgrades');
  t.same(await refusedUpgrade(`${srv.url}/ws`, {}, { origin: 'https://evil.example' }), { status: 403, code: 'ORIGIN_NOT_ALLOWED' });
  const firing = await waitForState(srv, 'ConnectionFailuresHigh', 'firing');
  t.equal(firing.value, 25, 'one refused of four');
  t.match(firing.detail, /1 of 4 upgrades refused/);
  const m = await scrape(srv.http);
  t.same([value(m, 'bookcast_websocket_upgrade_requests_total'), value(m, 'bookcast_websocket_upgrades_refused_total')], [4, 1], '/metrics counts the same');
  const resolved = await waitForState(srv, 'ConnectionFailuresHigh', 'resolved');
  t.equal(resolved.value, 0, 'no attempt in the window');
  for (const ws of ok) ws.close();
});

t.test('StorageFreeLow fires when the data directory fills past the threshold and resolves when space is freed', async (t) => {
  // A small filesystem of its own (tmpfs), filled for real; the store is PostgreSQL, so only the
  // journal and checkpoints live in the data directory.
  const mount = mkdtempSync(path.join(tmpdir(), 'bookcast-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mount], { stdio: 'pipe' });
  } catch (err) {
    rmSync(mount, { recursive: true, force: true });
    if (process.env.CI === 'true') throw new Error(`a tmpfs is required with CI=true: ${(err as Error).message}`);
    t.plan(0, `cannot mount a tmpfs here (with CI=true this fails): ${(err as Error).message}`);
    return;
  }
  t.teardown(() => {
    execFileSync('umount', ['-l', mount]);
    rmSync(mount, { recursive: true, force: true });
  });
  const db = await freshDatabase('alerts_storage');
  if (db === null) {
    t.plan(0, 'PostgreSQL unreachable (with CI=true this fails)');
    return;
  }
  t.teardown(() => db.drop());
  const dataDir = path.join(mount, 'data');
  const srv = await startTestServer(['--data-dir', dataDir, '--database-url', db.url, '--rate', '50', '--alert-storage-free-percent', '50', ...FAST]);
  t.teardown(() => srv.server.stop());
  const before = await waitForState(srv, 'StorageFreeLow', 'inactive');
  t.ok(before.value! > 50, `${before.value}% free at the start`);
  // Fill the filesystem until a third of it is free.
  const fs = statfsSync(mount);
  const filler = path.join(mount, 'filler');
  writeFileSync(filler, new Uint8Array(Math.floor(fs.bavail * fs.bsize - (fs.blocks * fs.bsize) / 3)));
  const firing = await waitForState(srv, 'StorageFreeLow', 'firing');
  t.ok(firing.value! < 50, `${firing.value}% free`);
  const m = await scrape(srv.http);
  t.ok(value(m, 'bookcast_storage_free_bytes')! / value(m, 'bookcast_storage_size_bytes')! < 0.5, '/metrics shows the same filesystem');
  rmSync(filler);
  const resolved = await waitForState(srv, 'StorageFreeLow', 'resolved');
  t.ok(resolved.value! > 50, `${resolved.value}% free again`);
});
