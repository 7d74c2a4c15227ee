import t, { type Test } from 'tap';
import WebSocket from 'ws';
import * as flatbuffers from 'flatbuffers';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BID } from '../../src/model/book-types';
import { EV_ADD, EV_DELETE } from '../../src/model/events';
import { DEFAULT_INSTRUMENTS, REFERENCE_PRICES, toInstrument } from '../../src/model/instruments';
import { MarketSimulator } from '../../src/source/market-simulator';
import { buildIngestBatch, IngestEventFields } from '../../src/wire/ingest-batch';
import { IngestPublisher, PublisherError } from '../../scripts/ingest-publisher';
import { ReferenceBooks } from '../helpers/reference-books';
import { startTestServer, TestServer, waitFor } from '../helpers/test-server';
import { refusedUpgrade } from '../helpers/ws-connect';
import { formatUnits } from '../../src/util/decimal';

const TOKEN = 'ingest-test-token-0123456789';
const instruments = DEFAULT_INSTRUMENTS.map((s, i) => toInstrument(s, i));
const NAMES = instruments.map((i) => i.symbol);

/** A publisher driven by hand: raw frames out, every message bookcast sends kept in order. */
class RawPublisher {
  readonly messages: Record<string, any>[] = [];
  closed: number | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => this.messages.push(JSON.parse(data.toString())));
    ws.on('close', (code) => (this.closed = code));
  }

  static open(server: TestServer, session: string): Promise<RawPublisher> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${server.url}/ingest?session=${session}&token=${TOKEN}`);
      const publisher = new RawPublisher(ws);
      ws.on('error', reject);
      ws.on('open', () => resolve(publisher));
    });
  }

  /** Waits for the next message of `type` after the ones already seen. */
  async next(type: string): Promise<Record<string, any>> {
    const from = this.messages.length;
    let found: Record<string, any> | undefined;
    await waitFor(`a ${type} message`, () => (found = this.messages.slice(from).find((m) => m.type === type)) !== undefined);
    return found!;
  }

  /** Waits until bookcast has acknowledged `sequence` (acks are coalesced: any ack at or past it). */
  async acked(sequence: number): Promise<void> {
    await waitFor(`an ack of ${sequence}`, () => this.messages.some((m) => m.type === 'ack' && m.sequence >= sequence));
    const last = this.messages.filter((m) => m.type === 'ack').pop()!;
    if (last.sequence !== sequence) throw new Error(`acked ${last.sequence}, expected exactly ${sequence}`);
  }

  async welcome(): Promise<Record<string, any>> {
    await waitFor('the welcome', () => this.messages.length > 0);
    return this.messages[0];
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed !== null) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

function adds(count: number, firstOrderId: number, symbol = 0): IngestEventFields[] {
  const ins = instruments[symbol];
  return Array.from({ length: count }, (_, i) => ({
    kind: EV_ADD,
    symbol,
    side: BID,
    orderId: firstOrderId + i,
    newOrderId: 0,
    price: 1000 * ins.tickUnits + i * ins.tickUnits,
    size: ins.lotUnits * (i + 1),
    timestamp: 0,
  }));
}

const builder = new flatbuffers.Builder(4096);
const frame = (first: number, events: IngestEventFields[]) => buildIngestBatch(builder, first, NAMES, events).slice();

async function ingestHealth(server: TestServer): Promise<Record<string, any>> {
  return (await server.get('/api/v1/health')).body.ingest;
}

async function expectBooks(t: Test, server: TestServer, reference: ReferenceBooks, what: string): Promise<void> {
  for (const ins of instruments) {
    const rest = (await server.get(`/api/v1/market/${ins.slug}/orderbook?depth=100`)).body;
    t.same({ sequence: rest.sequence, bids: rest.bids, asks: rest.asks }, reference.render(ins.index, 100), `${what}: ${ins.symbol}`);
  }
}

t.test('a server that does not take ingest, and publishers without the right token, are refused', async (t) => {
  const plain = await startTestServer(['--rate', '10']);
  t.teardown(() => plain.server.stop());
  t.same(await refusedUpgrade(`${plain.url}/ingest?session=a`, { authorization: `Bearer ${TOKEN}` }), { status: 404, code: 'INGEST_DISABLED' });

  const server = await startTestServer(['--source', 'ingest', '--publisher-token', TOKEN]);
  t.teardown(() => server.server.stop());
  const url = `${server.url}/ingest`;
  t.same(await refusedUpgrade(`${url}?session=a`), { status: 401, code: 'UNAUTHORIZED' }, 'no token');
  t.same(await refusedUpgrade(`${url}?session=a`, { authorization: 'Bearer not-the-token-at-all' }), { status: 401, code: 'UNAUTHORIZED' }, 'wrong token');
  t.same(await refusedUpgrade(`${url}?session=a&token=${TOKEN.slice(1)}`), { status: 401, code: 'UNAUTHORIZED' }, 'wrong token in the query');
  t.same(await refusedUpgrade(`${url}?token=${TOKEN}`), { status: 400, code: 'INVALID_PARAMETER' }, 'no session');
  t.same(await refusedUpgrade(`${url}?session=a%20b&token=${TOKEN}`), { status: 400, code: 'INVALID_PARAMETER' }, 'a session name with a space');
  t.same(await refusedUpgrade(`${url}?session=a&token=${TOKEN}&x=1`), { status: 400, code: 'INVALID_PARAMETER' }, 'an unknown parameter');

  const first = await RawPublisher.open(server, 'a');
  t.match(await first.welcome(), { type: 'welcome', session: 'a', accepted_sequence: 0, durable_sequence: 0 });
  t.same(await refusedUpgrade(`${url}?session=b`, { authorization: `Bearer ${TOKEN}` }), { status: 409, code: 'PUBLISHER_CONNECTED' }, 'one publisher at a time');
  await first.close();
  await waitFor('the place to free up', async () => (await ingestHealth(server)).publisher_connected === false);
  const second = await RawPublisher.open(server, 'b');
  t.match(await second.welcome(), { type: 'welcome', session: 'b' }, 'the next publisher gets in once the first has gone');
  await second.close();
});

t.test('duplicates are dropped; gaps and bad batches are refused and change nothing', async (t) => {
  const server = await startTestServer(['--source', 'ingest', '--publisher-token', TOKEN, '--ingest-max-batch-events', '50', '--ingest-max-batch-bytes', '4096']);
  t.teardown(() => server.server.stop());
  const reference = new ReferenceBooks(instruments);
  const events = adds(30, 1);
  const publisher = await RawPublisher.open(server, 's');
  t.match(await publisher.welcome(), { max_batch_events: 50, max_batch_bytes: 4096 });
  const apply = (list: IngestEventFields[]) => list.forEach((e) => reference.event(e.kind, e.symbol, e.side, e.orderId, e.price, e.size, e.newOrderId));

  publisher.ws.send(frame(1, events.slice(0, 10)));
  apply(events.slice(0, 10));
  t.match(await publisher.next('ack'), { type: 'ack', session: 's', sequence: 10 });

  publisher.ws.send(frame(1, events.slice(0, 10)));
  publisher.ws.send(frame(6, events.slice(5, 15)));
  apply(events.slice(10, 15));
  t.match(await publisher.next('ack'), { sequence: 15 }, 'an overlapping batch adds only what is new');

  const refusals: [string, string | Uint8Array, string, Record<string, unknown>][] = [
    ['a gap', frame(17, events.slice(16, 20)), 'SEQUENCE_GAP', { expected_sequence: 16 }],
    ['an unknown kind', frame(16, [{ ...events[15], kind: 42 }]), 'BAD_BATCH', { event_index: 0 }],
    ['an unknown symbol', JSON.stringify({ first_sequence: 16, events: [{ kind: 'delete', symbol: 'DOGE/USD', order_id: 1 }] }), 'UNKNOWN_SYMBOL', { event_index: 0 }],
    ['bad JSON', '{"first_sequence":16,', 'INVALID_JSON', {}],
    ['garbage bytes', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), 'BAD_FRAME', {}],
    ['too many events', frame(16, adds(51, 100)), 'BAD_BATCH', {}],
    ['too many bytes', JSON.stringify({ first_sequence: 16, events: [], pad: 'x'.repeat(5000) }), 'MESSAGE_TOO_LARGE', {}],
  ];
  for (const [what, bytes, code, extra] of refusals) {
    publisher.ws.send(bytes);
    t.match(await publisher.next('error'), { code, ...extra }, what);
  }
  t.equal(publisher.closed, null, 'the connection stays open after refusals');
  const health = await ingestHealth(server);
  t.match(health, { accepted_sequence: 15, duplicates: 15, refused: refusals.length, events: 15 });

  // The JSON twin continues where the binary stream stopped.
  const next = events.slice(15, 30);
  publisher.ws.send(
    JSON.stringify({
      first_sequence: 16,
      events: next.map((e) => ({ kind: 'add', symbol: 'BTC/USD', side: 'buy', order_id: e.orderId, price: (e.price / 10).toFixed(1), size: (e.size / 1e5).toFixed(5) })),
    }),
  );
  apply(next);
  publisher.ws.send(frame(31, [{ ...events[0], kind: EV_DELETE }]));
  apply([{ ...events[0], kind: EV_DELETE }]);
  await publisher.acked(31);
  await waitFor('the books to apply everything', async () => (await server.get('/api/v1/market/BTC-USD/orderbook')).body.sequence === reference.sequences[0]);
  await expectBooks(t, server, reference, 'after duplicates, refusals and JSON');
  await publisher.close();
});

t.test("a publisher's flow reaches the books exactly once, across reconnects, sessions and a restart", async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-ingest-'));
  const args = ['--source', 'ingest', '--publisher-token', TOKEN, '--data-dir', dataDir, '--ingest-max-batch-events', '500'];
  let server = await startTestServer(args);
  t.teardown(() => server.server.stop());
  const reference = new ReferenceBooks(instruments);
  const errors: PublisherError[] = [];

  /** Runs `arrivals` simulator arrivals through a publisher in `format`; resolves when all are acked. */
  const publish = async (session: string, format: 'flatbuffers' | 'json', arrivals: number, seed: number, midway?: (p: IngestPublisher) => Promise<void>) => {
    const publisher = new IngestPublisher({ url: `${server.url}/ingest`, token: TOKEN, session, format, symbols: instruments, window: 5000, onError: (e) => errors.push(e) });
    const welcome = await publisher.connect();
    publisher.continueFrom(welcome.accepted_sequence);
    const engine = new MarketSimulator(instruments, REFERENCE_PRICES, seed, {
      event(kind, symbol, side, orderId, price, size, newOrderId, timestamp) {
        publisher.push({ kind, symbol, side, orderId, newOrderId, price, size, timestamp });
        reference.event(kind, symbol, side, orderId, price, size, newOrderId);
      },
    });
    for (const ins of instruments) {
      publisher.push({ kind: 8, symbol: ins.index, side: 0, orderId: 0, newOrderId: 0, price: 0, size: 0, timestamp: 0 });
      reference.event(8, ins.index, 0, 0, 0, 0, 0);
    }
    let done = 0;
    while (done < arrivals) {
      if (publisher.room() > 100) {
        for (let i = 0; i < 200 && done < arrivals; i++, done++) engine.arrival(1_760_000_000_000_000 + done);
        publisher.flush();
        if (midway !== undefined && done >= arrivals / 2) {
          await midway(publisher);
          midway = undefined;
        }
      }
      await new Promise((r) => setImmediate(r));
    }
    publisher.flush();
    await waitFor(`session ${session} to be acknowledged`, () => publisher.acked === publisher.last);
    await publisher.close();
    return publisher;
  };

  const binary = await publish('engine-1', 'flatbuffers', 20_000, 1, async (p) => {
    // Drop the connection mid-flow: the publisher reconnects, resends, and duplicates are dropped.
    (p as unknown as { ws: WebSocket }).ws.terminate();
  });
  t.ok(binary.connections >= 2, 'the publisher reconnected');
  let health = await ingestHealth(server);
  t.match(health, { session: 'engine-1', accepted_sequence: binary.last, durable_sequence: binary.last });
  await waitFor('the books', async () => (await server.get('/api/v1/market/BTC-USD/orderbook')).body.sequence === reference.sequences[0]);
  await expectBooks(t, server, reference, 'binary session with a reconnect');

  const json = await publish('engine-2', 'json', 5000, 2);
  t.equal((await ingestHealth(server)).accepted_sequence, json.last, 'a new session numbers from 1');
  await waitFor('the books', async () => (await server.get('/api/v1/market/BTC-USD/orderbook')).body.sequence === reference.sequences[0]);
  await expectBooks(t, server, reference, 'JSON session after the binary one');

  await server.server.stop();
  server = await startTestServer(args);
  health = await ingestHealth(server);
  t.match(health, { session: 'engine-2', accepted_sequence: json.last, durable_sequence: json.last }, 'a restart knows where the session stands');
  const again = await RawPublisher.open(server, 'engine-2');
  t.match(await again.welcome(), { accepted_sequence: json.last, durable_sequence: json.last });
  await again.close();
  await expectBooks(t, server, reference, 'after a restart');
  t.same(errors, [], 'bookcast refused nothing the publisher sent');
});

t.test('event times outside the window are refused with TIMESTAMP_OUT_OF_RANGE and change nothing', async (t) => {
  const server = await startTestServer(['--source', 'ingest', '--publisher-token', TOKEN]);
  t.teardown(() => server.server.stop());
  const publisher = await RawPublisher.open(server, 'times');
  await publisher.welcome();
  const now = Date.now() * 1000;
  const at = (timestamp: number, orderId: number, symbol = 0): IngestEventFields => ({ ...adds(1, orderId, symbol)[0], timestamp });
  // The far future and the far past, in both encodings; the JSON twin names the same fields.
  const json = (timestamp: number) => JSON.stringify({ first_sequence: 2, events: [{ kind: 'delete', symbol: 'BTC/USD', order_id: 1, timestamp }] });

  publisher.ws.send(frame(1, [at(now, 1)]));
  await publisher.acked(1);
  const refusals: [string, IngestEventFields[], number, RegExp][] = [
    ['an hour ahead of the clock', [at(now + 1, 2), at(now + 3_600_000_000, 3)], 1, /ahead of the server's clock/],
    ['in 2099', [at(Date.UTC(2099, 0, 1) * 1000, 2)], 0, /ahead/],
    ['milliseconds for microseconds', [at(Date.now(), 2)], 0, /before 2000-01-01/],
  ];
  for (const [what, events, index, message] of refusals) {
    publisher.ws.send(frame(2, events));
    t.match(await publisher.next('error'), { code: 'TIMESTAMP_OUT_OF_RANGE', event_index: index, message }, what);
  }
  publisher.ws.send(json(now + 86_400_000_000));
  t.match(await publisher.next('error'), { code: 'TIMESTAMP_OUT_OF_RANGE', event_index: 0 }, 'JSON, a day ahead');
  publisher.ws.send(json(1));
  t.match(await publisher.next('error'), { code: 'TIMESTAMP_OUT_OF_RANGE', event_index: 0 }, 'JSON, 1 µs after 1970');
  t.match(await ingestHealth(server), { accepted_sequence: 1, refused: refusals.length + 2 });

  // Within the window: a little ahead (clock skew), and late (a recorded flow), both accepted.
  publisher.ws.send(frame(2, [at(now + 30_000_000, 2), at(Date.UTC(2012, 5, 21) * 1000, 3), at(now, 4, 1)]));
  await publisher.acked(4);
  await waitFor('the books to apply the batch', async () => (await server.get('/api/v1/market/BTC-USD/orderbook')).body.sequence === 3);
  await publisher.close();
});

t.test('an order that would take its level past 2^53 - 1 units is rejected by the book; the level and checksum stay exact', async (t) => {
  const server = await startTestServer(['--source', 'ingest', '--publisher-token', TOKEN]);
  t.teardown(() => server.server.stop());
  const publisher = await RawPublisher.open(server, 'big');
  await publisher.welcome();
  const ins = instruments[0];
  const biggest = Math.floor(Number.MAX_SAFE_INTEGER / ins.lotUnits) * ins.lotUnits;
  const price = 1000 * ins.tickUnits;
  const add = (orderId: number, size: number): IngestEventFields => ({ kind: EV_ADD, symbol: 0, side: BID, orderId, newOrderId: 0, price, size, timestamp: 0 });
  publisher.ws.send(frame(1, [add(1, biggest), add(2, ins.lotUnits), add(3, biggest)]));
  await publisher.acked(3);
  const reference = new ReferenceBooks(instruments);
  reference.event(EV_ADD, 0, BID, 1, price, biggest, 0);
  await waitFor('the book to apply the batch', async () => {
    const health = (await server.get('/api/v1/health')).body;
    return health.workers.some((w: any) => w.rejected.LEVEL_OVERFLOW === 2);
  });
  const book = (await server.get(`/api/v1/market/${ins.slug}/orderbook?depth=5`)).body;
  t.same(book.bids, [[formatUnits(price, ins.priceDecimals), formatUnits(biggest, ins.sizeDecimals)]], 'the level holds the first order only, exactly');
  t.equal(book.sequence, 1, 'the refused adds took no sequence');
  t.equal(book.checksum, reference.books[0].checksum(), 'the checksum covers the exact level');
  await publisher.close();
});
