import t from 'tap';
import WebSocket from 'ws';
import { startServerProcess, stopServerProcess } from '../helpers/server-process';
import { closeOf, openSocket, refusedUpgrade } from '../helpers/ws-connect';
import { waitFor } from '../helpers/test-server';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const TOKEN = 'limits-test-token-0123456789';

t.test('connections over the total and per-address caps are refused on every endpoint; REST answers; closing frees slots', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-test-'));
  const server = await startServerProcess(['--source', 'ingest', '--publisher-token', TOKEN, '--data-dir', dataDir, '--max-connections', '50', '--max-connections-per-ip', '20']);
  t.teardown(async () => {
    await stopServerProcess(server);
    rmSync(dataDir, { recursive: true, force: true });
  });
  const ws = server.http.replace('http', 'ws');
  const feed = `${ws}/ws`;
  const stream = `${ws}/api/v1/market-data/stream`;
  const ingest = `${ws}/ingest?session=s1&token=${TOKEN}`;
  const from = (n: number): WebSocket.ClientOptions => ({ localAddress: `127.0.0.${n}` });
  const held: WebSocket[][] = [[], [], [], [], [], []];
  const hold = async (address: number, url: string, count: number) => {
    for (let i = 0; i < count; i++) held[address].push(await openSocket(url, from(address)));
  };
  t.teardown(() => held.flat().forEach((s) => s.terminate()));
  const openCount = async () => ((await (await fetch(`${server.http}/api/v1/health`)).json()) as any).connection_limits.open;

  // One address: 20 connections over the three endpoints, then every endpoint refuses the 21st.
  await hold(2, feed, 10);
  await hold(2, stream, 9);
  await hold(2, ingest, 1);
  for (const url of [feed, stream, ingest]) {
    t.same(await refusedUpgrade(url, {}, from(2)), { status: 429, code: 'TOO_MANY_CONNECTIONS_PER_IP' }, `per address: ${url}`);
  }
  // Other addresses fill the server to 50; then every endpoint refuses anyone.
  await hold(3, feed, 20);
  await hold(4, stream, 10);
  t.equal(await openCount(), 50, 'health counts 50 open connections');
  for (const url of [feed, stream, ingest]) {
    t.same(await refusedUpgrade(url, {}, from(5)), { status: 503, code: 'TOO_MANY_CONNECTIONS' }, `total: ${url}`);
  }
  // REST still answers while the caps are reached.
  const symbols = await fetch(`${server.http}/api/v1/market/symbols`);
  t.equal(symbols.status, 200, 'REST answers at the cap');

  // Closing connections frees their slots, for that address and in total.
  for (const s of held[2].splice(0, 5)) {
    const closed = closeOf(s);
    s.close();
    await closed;
  }
  await waitFor('the server to count the closed connections', async () => (await openCount()) === 45);
  held[2].push(await openSocket(feed, from(2)));
  held[5].push(await openSocket(stream, from(5)));
  held[5].push(await openSocket(feed, from(5)));
  t.equal(await openCount(), 48);
  t.equal(server.child.exitCode, null, 'the server runs on');
});
