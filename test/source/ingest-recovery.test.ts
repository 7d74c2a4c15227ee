import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EV_CLEAR } from '../../src/model/events';
import { DEFAULT_INSTRUMENTS, REFERENCE_PRICES, toInstrument } from '../../src/model/instruments';
import { MarketSimulator } from '../../src/source/market-simulator';
import { IngestPublisher, PublisherError } from '../../scripts/ingest-publisher';
import { freshDatabase } from '../helpers/postgres';
import { ReferenceBooks } from '../helpers/reference-books';
import { startServerProcess, stopServerProcess } from '../helpers/server-process';
import { sleep, waitFor } from '../helpers/test-server';

const TOKEN = 'ingest-recovery-token-42';
const SYMBOLS = ['BTC/USD', 'ETH/USD', 'SOL/USD'];
const instruments = DEFAULT_INSTRUMENTS.filter((s) => SYMBOLS.includes(s.symbol)).map((s, i) => toInstrument(s, i));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

t.test('a publisher streaming through two kill -9s: every event applied exactly once, nothing acknowledged lost', async (t) => {
  const db = await freshDatabase('ingest_kill');
  if (db === null) {
    t.plan(0, 'PostgreSQL not reachable (set BOOKCAST_TEST_POSTGRES); this test kills the server mid-write, which only a real database survives');
    return;
  }
  t.teardown(() => db.drop());
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-ingest-kill-'));
  const args = ['--port', String(port), '--symbols', SYMBOLS.join(','), '--source', 'ingest', '--publisher-token', TOKEN, '--data-dir', dataDir, '--database-url', db.url];
  let server = await startServerProcess(args);
  t.teardown(() => stopServerProcess(server, 'SIGKILL'));

  const reference = new ReferenceBooks(instruments);
  const errors: PublisherError[] = [];
  const publisher = new IngestPublisher({ url: `ws://127.0.0.1:${port}/ingest`, token: TOKEN, session: 'matching-engine', format: 'flatbuffers', symbols: instruments, window: 20_000, onError: (e) => errors.push(e) });
  await publisher.connect();
  const engine = new MarketSimulator(instruments, REFERENCE_PRICES, 11, {
    event(kind, symbol, side, orderId, price, size, newOrderId, timestamp) {
      publisher.push({ kind, symbol, side, orderId, newOrderId, price, size, timestamp });
      reference.event(kind, symbol, side, orderId, price, size, newOrderId);
    },
  });
  for (const ins of instruments) {
    publisher.push({ kind: EV_CLEAR, symbol: ins.index, side: 0, orderId: 0, newOrderId: 0, price: 0, size: 0, timestamp: 0 });
    reference.event(EV_CLEAR, ins.index, 0, 0, 0, 0, 0);
  }

  let arrivals = 0;
  /**
   * Feeds the engine's flow, as fast as the publisher's window lets it, until `done` (counted in
   * events and acks, not in time: a busy machine sends fewer events in a second).
   */
  const feedUntil = async (what: string, done: () => boolean) => {
    const deadline = Date.now() + 300_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out feeding events until ${what} (${publisher.acked} acked of ${publisher.last})`);
      for (let i = 0; i < 100 && publisher.room() > 10; i++) engine.arrival(1_760_000_000_000_000 + arrivals++);
      publisher.flush();
      await sleep(1);
    }
  };

  let ackedOnConnect = 0;
  for (let round = 1; round <= 2; round++) {
    await feedUntil(`round ${round}: ${round * 4000} events sent and acks flowing from this server`, () => publisher.last >= round * 4000 && publisher.acked > ackedOnConnect);
    const ackedBefore = publisher.acked;
    await stopServerProcess(server, 'SIGKILL');
    const sentBefore = publisher.last;
    // The engine goes on while bookcast is down, into the publisher's window.
    await feedUntil(`round ${round}: 2000 events sent while bookcast is down`, () => publisher.last >= sentBefore + 2000);
    server = await startServerProcess(args);
    await waitFor(`round ${round}: the publisher to reconnect`, () => publisher.connections === round + 1);
    // The publisher's acked never goes back; a restart that lost acknowledged events shows in
    // the welcome, which the publisher reports as ACKED_EVENTS_LOST.
    t.same(errors, [], `round ${round}: the restart still holds everything acknowledged (${ackedBefore} before the kill)`);
    ackedOnConnect = publisher.acked;
  }
  await feedUntil('over 10,000 events sent', () => publisher.last > 10_000);
  publisher.flush();
  await waitFor('every event to be acknowledged', () => publisher.acked === publisher.last);
  t.same(errors, [], 'no refusal, no acknowledged event lost');

  const http = server.http;
  const health = (await (await fetch(`${http}/api/v1/health`)).json()) as { ingest: Record<string, number> };
  t.match(health.ingest, { accepted_sequence: publisher.last, durable_sequence: publisher.last });
  for (const ins of instruments) {
    let rest: { sequence: number; bids: string[][]; asks: string[][] } = { sequence: -1, bids: [], asks: [] };
    await waitFor(`${ins.symbol} to apply everything`, async () => {
      rest = (await (await fetch(`${http}/api/v1/market/${ins.slug}/orderbook?depth=100`)).json()) as typeof rest;
      return rest.sequence === reference.sequences[ins.index];
    });
    t.same({ sequence: rest.sequence, bids: rest.bids, asks: rest.asks }, reference.render(ins.index, 100), `${ins.symbol}: the book and sequence of every event applied once`);
  }
  await publisher.close();
});
