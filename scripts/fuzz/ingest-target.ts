import * as flatbuffers from 'flatbuffers';
import WebSocket from 'ws';
import type { Instrument } from '../../src/model/instruments';
import { REFERENCE_PRICES } from '../../src/model/instruments';
import { SymbolLookup } from '../../src/gateway/symbol-lookup';
import { MarketSimulator } from '../../src/source/market-simulator';
import { formatUnits } from '../../src/util/decimal';
import { buildIngestBatch, IngestBatchDecoder, IngestEventFields } from '../../src/wire/ingest-batch';
import { EVENT_KIND_NAMES } from '../../src/model/events';
import { bookChecksum } from '../../src/client';
import { ReferenceBooks } from '../../test/helpers/reference-books';
import { Findings, show } from './findings';
import { FuzzInputs, PROTO_KEYS } from './fuzz-inputs';

/**
 * /ingest under fuzz, against an independent model of the books. Half the frames are valid
 * batches of a simulated market (JSON or FlatBuffers), numbered on from the last, and applied to
 * ReferenceBooks as they are sent; the other half are mutated (fields retyped, names such as
 * `__proto__`, bytes flipped or cut, first_sequence out of line). A mutated frame must change
 * nothing, so each one is first run through the server's own decoder: one that would decode and
 * carry an event past the last valid one (a flipped byte can land on the next sequence) is not
 * sent, since it would be valid input, not a mutation. At the end the server must have accepted
 * exactly the valid events, and its books (REST and a WebSocket snapshot, levels and checksum)
 * must equal the model's.
 */
const MAX_BATCH_EVENTS = 40;
/** Unacknowledged events allowed in flight (far under the server's INGEST_OVERLOADED limit). */
const WINDOW = 50_000;
const DEPTH = 100;

export interface IngestTarget {
  url: string;
  http: string;
  token: string;
  instruments: readonly Instrument[];
  inputs: FuzzInputs;
  findings: Findings;
}

export interface IngestOutcome {
  sent: number;
  validBatches: number;
  events: number;
  /** Mutated frames the decoder showed would have added events, so not sent. */
  skipped: number;
}

export async function fuzzIngest(target: IngestTarget, count: number, deadline: number, onProgress: (sent: number) => void): Promise<IngestOutcome & { model: ReferenceBooks }> {
  const { inputs: f, findings, instruments } = target;
  const names = instruments.map((i) => i.symbol);
  const model = new ReferenceBooks(instruments);
  const pending: IngestEventFields[] = [];
  const simulator = new MarketSimulator(instruments, REFERENCE_PRICES, f.random.int(2 ** 31), {
    event(kind, symbol, side, orderId, price, size, newOrderId) {
      // Timestamp 0: stamped on arrival, so the server's sane-time window never refuses a valid event.
      pending.push({ kind, symbol, side, orderId, newOrderId, price, size, timestamp: 0 });
      model.event(kind, symbol, side, orderId, price, size, newOrderId);
    },
  });
  const decoder = new IngestBatchDecoder(new SymbolLookup(instruments), 1_000_000);
  const builder = new flatbuffers.Builder(4096);

  const ws = new WebSocket(`${target.url}/ingest?session=fuzz&token=${target.token}`);
  let acked = 0;
  let last = '';
  let closedCode: number | null = null;
  const welcome = new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.on('close', (code) => {
      closedCode = code;
      reject(new Error(`ingest connection closed (${code})`));
    });
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as Record<string, any>;
      if (m.type === 'welcome') resolve();
      else if (m.type === 'ack') acked = Math.max(acked, m.sequence);
      else if (m.type === 'error') findings.code(m.code, last);
      else findings.find('unexpected ingest message', data.toString());
    });
  });
  await welcome;

  let next = 1;
  let sent = 0;
  let validBatches = 0;
  let skipped = 0;
  let recent: IngestEventFields[] = [];
  const json = (first: unknown, events: unknown[]) => ({ first_sequence: first, events });
  const jsonEvent = (e: IngestEventFields): Record<string, unknown> => {
    const ins = instruments[e.symbol];
    const o: Record<string, unknown> = { kind: EVENT_KIND_NAMES[e.kind], symbol: ins.symbol };
    if (e.kind === 1 || e.kind === 7) o.side = e.side === 1 ? 'sell' : 'buy';
    if (e.orderId !== 0) o.order_id = e.orderId;
    if (e.newOrderId !== 0) o.new_order_id = e.newOrderId;
    if (e.price !== 0) o.price = formatUnits(e.price, ins.priceDecimals);
    if (e.size !== 0) o.size = formatUnits(e.size, ins.sizeDecimals);
    return o;
  };

  /** Whether the server would take new events from this frame (then it is not a mutation). */
  const wouldAdd = (frame: string | Uint8Array, binary: boolean): boolean => {
    try {
      if (binary) decoder.decodeBinary(frame as Uint8Array, Date.now() * 1000);
      else decoder.decodeJson(frame as string, Date.now() * 1000);
    } catch {
      return false;
    }
    return decoder.firstSequence + decoder.count - 1 >= next;
  };

  while (sent < count && Date.now() < deadline && closedCode === null) {
    if (next - 1 - acked > WINDOW) {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    let frame: string | Uint8Array;
    let binary = f.chance(0.6);
    if (f.chance(0.5) || recent.length === 0) {
      const want = 1 + f.random.int(MAX_BATCH_EVENTS);
      while (pending.length < want) simulator.arrival(0);
      const events = pending.splice(0, pending.length);
      frame = binary ? buildIngestBatch(builder, next, names, events).slice() : JSON.stringify(json(next, events.map(jsonEvent)));
      next += events.length;
      recent = events;
      validBatches++;
    } else {
      // Numbered so that, decoded as intended, every event is a duplicate (or the batch a gap).
      const n = recent.length;
      const first = next - 1 >= n && f.chance(0.8) ? next - n - f.random.int(next - n) : next + 1 + f.random.int(1000);
      const k = f.random.int(10);
      if (k < 4) {
        binary = true;
        const events = recent.map((e) => ({ ...e }));
        const e = events[f.random.int(n)];
        const field = f.pick(['kind', 'symbol', 'side', 'orderId', 'newOrderId', 'price', 'size', 'timestamp'] as const);
        e[field] = f.pick([0, 1, 2, 8, 9, 255, 2 ** 31, 2 ** 53 - 1, Date.now() * 1000 + 86_400_000_000 * 365]);
        const built = buildIngestBatch(builder, first, f.chance(0.2) ? [...names, f.text()] : names, events).slice();
        frame = f.chance(0.7) ? f.corrupt(built) : built;
      } else if (k < 8) {
        binary = false;
        const events: unknown[] = recent.map(jsonEvent);
        const i = f.random.int(n);
        events[i] = f.chance(0.8) ? f.mutate(events[i] as Record<string, unknown>) : f.json(2);
        const batch: Record<string, unknown> = json(first, events);
        if (f.chance(0.1)) batch[f.pick(PROTO_KEYS)] = f.json(1);
        const text = JSON.stringify(batch);
        frame = f.chance(0.9) ? text : text.slice(0, f.random.int(text.length));
      } else if (k < 9) {
        frame = binary ? f.bytes(256) : f.text();
      } else {
        binary = false;
        frame = JSON.stringify(f.json(3));
      }
      if (wouldAdd(frame, binary)) {
        skipped++;
        continue;
      }
    }
    last = show(frame);
    ws.send(frame, { binary });
    sent++;
    if (sent % 1000 === 0) onProgress(sent);
  }
  if (closedCode !== null) findings.find('ingest connection closed', `code ${closedCode} after ${last}`);
  const events = next - 1;
  const until = Date.now() + 120_000;
  while (acked < events && Date.now() < until && closedCode === null) await new Promise((r) => setTimeout(r, 20));
  if (acked !== events) findings.find('valid events not acknowledged', `acked ${acked} of ${events}`);
  ws.close();
  return { sent, validBatches, events, skipped, model };
}

/**
 * The server's books against the model: sequence, levels to DEPTH and checksum, from REST and
 * from a WebSocket l2 snapshot. Waits (generously) for the books to reach the model's sequences.
 */
export async function compareBooks(target: IngestTarget, model: ReferenceBooks): Promise<{ symbols: number; equal: number }> {
  const { findings, instruments } = target;
  const get = async (path: string) => (await (await fetch(target.http + path)).json()) as Record<string, any>;
  let equal = 0;
  const ws = new WebSocket(`${target.url}/ws`);
  const snapshots = new Map<string, Record<string, any>>();
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString()) as Record<string, any>;
    if (m.type === 'l2_snapshot') snapshots.set(m.symbol, m);
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  for (const ins of instruments) {
    const want = model.render(ins.index, DEPTH);
    const wantChecksum = bookChecksum(want.bids as [string, string][], want.asks as [string, string][]);
    const until = Date.now() + 120_000;
    let rest = await get(`/api/v1/market/${ins.slug}/orderbook?depth=${DEPTH}`);
    while (rest.sequence < want.sequence && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      rest = await get(`/api/v1/market/${ins.slug}/orderbook?depth=${DEPTH}`);
    }
    const restSame = JSON.stringify({ sequence: rest.sequence, bids: rest.bids, asks: rest.asks }) === JSON.stringify(want) && rest.checksum === wantChecksum;
    if (!restSame) findings.find('REST book differs from the model', `${ins.symbol}: server seq ${rest.sequence} checksum ${rest.checksum}, model seq ${want.sequence} checksum ${wantChecksum}`);
    ws.send(JSON.stringify({ type: 'subscribe', channels: ['l2'], symbols: [ins.symbol], depth: DEPTH }));
    const snapUntil = Date.now() + 60_000;
    while (!snapshots.has(ins.symbol) && Date.now() < snapUntil) await new Promise((r) => setTimeout(r, 20));
    const snap = snapshots.get(ins.symbol);
    const wsSame =
      snap !== undefined &&
      snap.sequence === want.sequence &&
      JSON.stringify([snap.data.bids, snap.data.asks]) === JSON.stringify([want.bids, want.asks]) &&
      snap.checksum === wantChecksum;
    if (!wsSame) findings.find('WebSocket snapshot differs from the model', `${ins.symbol}: ${snap === undefined ? 'no snapshot' : `seq ${snap.sequence} checksum ${snap.checksum}`}, model seq ${want.sequence}`);
    if (restSame && wsSame) equal++;
  }
  ws.close();
  return { symbols: instruments.length, equal };
}
