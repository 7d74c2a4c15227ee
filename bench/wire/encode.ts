/**
 * Wire codec throughput: MessageEncoder calls per second for the hot messages, next to
 * FastEncoder's length + write of the same message into a shared ring buffer (the way a book
 * worker publishes), renderJson calls per second for the JSON path (each message also written
 * out as its send does), and heap bytes allocated per call (what the flatbuffers runtime and the
 * returned view cost; 0 means allocation-free).
 * cpuNsPerCall is this thread's CPU time per call: on a shared machine it moves less than the
 * wall-clock nsPerCall when other processes take the core.
 *
 *   node dist/bench/wire/encode.js [seconds per scenario, default 1]
 */
import { FastEncoder, TICKER_SEQUENCE, TickerTemplate } from '../../src/wire/fast-encoder';
import { MessageEncoder } from '../../src/wire/message-encoder';
import { renderJson } from '../../src/wire/json-renderer';
import { findLobsterSamples, LobsterBookReader, lobsterDataDir, lobsterFiles } from '../../src/source/lobster-files';

interface Scenario {
  name: string;
  call: () => number;
  /** Each call renders a different message: no one output size to set the allocation against. */
  variedOutput?: boolean;
}

interface Result {
  perSecond: number;
  nsPerCall: number;
  cpuNsPerCall: number;
  /** Encoded bytes, or rendered JSON characters. */
  size: number;
  allocatedBytesPerCall: number;
  /**
   * JSON scenarios: allocatedBytesPerCall less the returned string's own bytes (a one-byte V8
   * string, 16-byte header, 8-aligned, as on Node's default build): what rendering costs beyond
   * its output, the figure that must not grow with the levels a message carries.
   */
  beyondOutputBytesPerCall?: number;
}

const BATCH = 10_000;

function measureRate(call: () => number, seconds: number): { perSecond: number; cpuNsPerCall: number; sink: number } {
  let sink = 0;
  for (let i = 0; i < BATCH * 5; i++) sink += call(); // warm up to the optimizing tier
  let calls = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  do {
    for (let i = 0; i < BATCH; i++) sink += call();
    calls += BATCH;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < budget);
  const used = process.cpuUsage(cpu);
  return { perSecond: (calls * 1e9) / Number(elapsed), cpuNsPerCall: ((used.user + used.system) * 1000) / calls, sink };
}

/**
 * Heap growth over small batches, median of many, so a scavenge inside one batch (which makes
 * its delta negative) does not skew the figure.
 */
export function measureAllocation(call: () => unknown): number {
  const calls = 1000;
  const deltas: number[] = [];
  for (let round = 0; round < 41; round++) {
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < calls; i++) call();
    const delta = process.memoryUsage().heapUsed - before;
    if (delta >= 0) deltas.push(delta / calls);
  }
  deltas.sort((a, b) => a - b);
  return deltas.length === 0 ? NaN : Math.round(deltas[deltas.length >> 1]);
}

function book(levels: number, best: number, step: number): { prices: Float64Array; sizes: Float64Array } {
  const prices = new Float64Array(levels);
  const sizes = new Float64Array(levels);
  for (let i = 0; i < levels; i++) {
    prices[i] = best + i * step;
    sizes[i] = 10_000 + i * 37;
  }
  return { prices, sizes };
}

/**
 * Claims record space the way the out-ring does (an 8-byte header, records 8-aligned, wrapping
 * at the end) and returns where the message goes, so fast writes land all over a 1 MiB
 * SharedArrayBuffer as they would in production, not in one hot cache line.
 */
function ringClaimer(): { bytes: Uint8Array; claim: (length: number) => number } {
  const bytes = new Uint8Array(new SharedArrayBuffer(1 << 20));
  let cursor = 0;
  const claim = (length: number): number => {
    const record = (8 + length + 7) & ~7;
    if (cursor + record > bytes.length) cursor = 0;
    const at = cursor;
    cursor += record;
    return at + 8;
  };
  return { bytes, claim };
}

function changes(count: number, best: number, step: number): { ids: Float64Array; prices: Float64Array; sizes: Float64Array; events: Uint8Array } {
  const { prices, sizes } = book(count, best, step);
  const ids = new Float64Array(count);
  const events = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    ids[i] = 5_000_000 + i;
    events[i] = i % 3;
  }
  return { ids, prices, sizes, events };
}

/** Rows of the LOBSTER GOOG sample's order book read for the real-levels scenario. */
const LOBSTER_ROWS = 50_000;

/**
 * l2Update frames carrying what changed between consecutive rows of the LOBSTER GOOG sample's
 * 10-level book (prices at 4 decimals as LOBSTER writes them, sizes in shares): a renderer meets
 * real prices and sizes in their real order, not one frame's over and over. Null without the sample.
 */
function lobsterUpdateFrames(encoder: MessageEncoder, symbol: Uint8Array): Uint8Array[] | null {
  const sample = findLobsterSamples(lobsterDataDir()).find((p) => /GOOG_[^/]*_message_10\.csv$/.test(p));
  if (sample === undefined) return null;
  const book = new LobsterBookReader(lobsterFiles(sample).orderbookPath, 10);
  const frames: Uint8Array[] = [];
  const bidPrices = new Float64Array(10), bidSizes = new Float64Array(10), askPrices = new Float64Array(10), askSizes = new Float64Array(10);
  const previous = new Float64Array(book.row.length).fill(NaN);
  for (let rows = 0; rows < LOBSTER_ROWS && book.next(); rows++) {
    const row = book.row;
    let bids = 0;
    let asks = 0;
    // LOBSTER's columns: ask price, ask size, bid price, bid size, level by level.
    for (let at = 0; at < row.length && rows > 0; at += 4) {
      if (row[at] !== previous[at] || row[at + 1] !== previous[at + 1]) {
        askPrices[asks] = row[at];
        askSizes[asks++] = row[at + 1];
      }
      if (row[at + 2] !== previous[at + 2] || row[at + 3] !== previous[at + 3]) {
        bidPrices[bids] = row[at + 2];
        bidSizes[bids++] = row[at + 3];
      }
    }
    if (bids + asks > 0) frames.push(encoder.l2Update(symbol, frames.length + 2, 1_340_280_000_000_000, 10, frames.length + 1, 7, bidPrices, bidSizes, bids, askPrices, askSizes, asks).slice());
    previous.set(row);
  }
  // Into one buffer, 8-aligned, as the front thread reads frames out of one out-ring: a frame in a
  // buffer of its own would make the renderer wrap that buffer anew on every call.
  const ring = new Uint8Array(frames.reduce((sum, f) => sum + ((f.length + 7) & ~7), 0));
  let at = 0;
  return frames.map((f) => {
    ring.set(f, at);
    const view = ring.subarray(at, at + f.length);
    at += (f.length + 7) & ~7;
    return view;
  });
}

function scenarios(): Scenario[] {
  const encoder = new MessageEncoder();
  const fast = new FastEncoder();
  const ring = ringClaimer();
  const claim = ring.claim;
  const target = ring.bytes;
  const symbol = new TextEncoder().encode('BTC/USD');
  const fmt = { priceDecimals: 1, sizeDecimals: 5 };
  const bids100 = book(100, 670_000, -1);
  const asks100 = book(100, 670_001, 1);
  let sequence = 1_000_000;
  let timestamp = 1_795_307_222_123_456;
  // sequence stays a small integer; the timestamp, beyond that range, is a new heap number each
  // time it changes, so it moves once per 1024 calls to keep the harness's own allocation out of
  // allocatedBytesPerCall (the "from event" row below shows what a per-call one costs).
  const tick = (): void => {
    sequence++;
    if ((sequence & 1023) === 0) timestamp++;
  };

  const l2Update = (bidCount: number, askCount: number) => (): number => {
    tick();
    return encoder.l2Update(symbol, sequence, timestamp, 10, sequence - 1, 0x9e3779b1, bids100.prices, bids100.sizes, bidCount, asks100.prices, asks100.sizes, askCount).length;
  };
  const l2Snapshot = (levels: number) => (): number => {
    tick();
    return encoder.l2Snapshot(symbol, sequence, timestamp, levels, 1, 5, 0x9e3779b1, bids100.prices, bids100.sizes, levels, asks100.prices, asks100.sizes, levels).length;
  };
  const trade = (): number => {
    tick();
    return encoder.trade(symbol, sequence, timestamp, sequence, 670_001, 12_345, 1, 987_654).length;
  };
  const l2UpdateCopied = (): number => {
    tick();
    const bytes = encoder.l2Update(symbol, sequence, timestamp, 10, sequence - 1, 0x9e3779b1, bids100.prices, bids100.sizes, 1, asks100.prices, asks100.sizes, 1);
    target.set(bytes, claim(bytes.length));
    return bytes.length;
  };
  const bidChanges = changes(4, 670_000, -1);
  const askChanges = changes(4, 670_001, 1);
  const l3Update = (bidCount: number, askCount: number) => (): number => {
    tick();
    return encoder.l3Update(symbol, sequence, timestamp, sequence - 1,
      bidChanges.ids, bidChanges.prices, bidChanges.sizes, bidChanges.events, bidCount,
      askChanges.ids, askChanges.prices, askChanges.sizes, askChanges.events, askCount).length;
  };
  const ticker = (): number => {
    tick();
    return encoder.ticker(symbol, sequence, timestamp, 670_000, 12_345, 670_001, 23_456, 670_000, 100, 987_654_321, 680_000, 660_000, 669_000, 0).length;
  };
  // A trade emits one candle per interval (six in a row, intervals 0..5), final false but now and
  // then; the figures are those of a busy 1m candle.
  let interval = 0;
  const nextInterval = (): number => (interval = interval === 5 ? 0 : interval + 1);
  const start = timestamp - (timestamp % 60_000_000);
  const candle = (): number => {
    tick();
    return encoder.candle(symbol, sequence, timestamp, nextInterval(), start, 670_000, 670_100, 669_900, 670_050, 1_234_567, 827_160_185_000, 57,
      (sequence & 63) === 0, 0, 0).length;
  };

  // FastEncoder, as a book worker calls it: exact length, claim, write at the claimed offset.
  const fastL2Update = (bidCount: number, askCount: number) => (): number => {
    tick();
    const length = fast.l2UpdateLength(symbol, sequence, timestamp, 10, sequence - 1, 0x9e3779b1, bidCount, askCount);
    fast.writeL2Update(target, claim(length), length, symbol, sequence, timestamp, 10, sequence - 1, 0x9e3779b1,
      bids100.prices, bids100.sizes, bidCount, asks100.prices, asks100.sizes, askCount);
    return length;
  };
  const fastL3Update = (bidCount: number, askCount: number) => (): number => {
    tick();
    const length = fast.l3UpdateLength(symbol, sequence, timestamp, sequence - 1, bidCount, askCount);
    fast.writeL3Update(target, claim(length), length, symbol, sequence, timestamp, sequence - 1,
      bidChanges.ids, bidChanges.prices, bidChanges.sizes, bidChanges.events, bidCount,
      askChanges.ids, askChanges.prices, askChanges.sizes, askChanges.events, askCount);
    return length;
  };
  // The timestamp read from an event (a Float64Array, as the worker's input ring holds it) is
  // unboxed: passing it to a call that is not inlined boxes it into a new 16-byte heap number.
  const event = new Float64Array([timestamp]);
  const fastL2UpdateFromEvent = (): number => {
    tick();
    event[0] += 1;
    const at = event[0];
    const length = fast.l2UpdateLength(symbol, sequence, at, 10, sequence - 1, 0x9e3779b1, 1, 1);
    fast.writeL2Update(target, claim(length), length, symbol, sequence, at, 10, sequence - 1, 0x9e3779b1,
      bids100.prices, bids100.sizes, 1, asks100.prices, asks100.sizes, 1);
    return length;
  };
  const fastTrade = (): number => {
    tick();
    const length = fast.tradeLength(symbol, sequence, timestamp, sequence, 670_001, 12_345, 1, 987_654);
    fast.writeTrade(target, claim(length), length, symbol, sequence, timestamp, sequence, 670_001, 12_345, 1, 987_654);
    return length;
  };
  const fastTicker = (): number => {
    tick();
    const length = fast.tickerLength(symbol, sequence, timestamp, 670_000, 12_345, 670_001, 23_456, 670_000, 100, 987_654_321, 680_000, 660_000, 669_000, 0);
    fast.writeTicker(target, claim(length), length, symbol, sequence, timestamp, 670_000, 12_345, 670_001, 23_456, 670_000, 100,
      987_654_321, 680_000, 660_000, 669_000, 0);
    return length;
  };
  // The book worker's way (DiffEmitter.ticker): the symbol's last ticker with the new numbers
  // stored over it. Between trades only the quote is new (one stamp); a trade changes them all.
  const template = new TickerTemplate();
  const tickerValues = new Float64Array([sequence, timestamp, 670_000, 12_345, 670_001, 23_456, 670_000, 100, 987_654_321, 680_000, 660_000, 669_000, 0]);
  const templateTicker = (everyNumber: boolean) => (): number => {
    tick();
    tickerValues[TICKER_SEQUENCE] = sequence;
    const stamp = everyNumber ? sequence : 0;
    let length = fast.tickerQuote(template, symbol, tickerValues, stamp);
    if (length < 0) length = fast.tickerFull(template, symbol, tickerValues, stamp);
    target.set(template.bytes, claim(length));
    return length;
  };
  const fastCandle = (): number => {
    tick();
    const i = nextInterval();
    const final = (sequence & 63) === 0;
    const length = fast.candleLength(symbol, sequence, timestamp, i, start, 670_000, 670_100, 669_900, 670_050, 1_234_567, 827_160_185_000, 57, final, 0, 0);
    fast.writeCandle(target, claim(length), length, symbol, sequence, timestamp, i, start, 670_000, 670_100, 669_900, 670_050, 1_234_567,
      827_160_185_000, 57, final, 0, 0);
    return length;
  };

  // A rendered message is then handed to uWS, which has V8 write the string out as UTF-8: a
  // concatenated string is flattened into a copy first. Each JSON scenario pays that write too,
  // into one reused buffer, so a renderer cannot look cheap by leaving the work to the send.
  const sendBuffer = Buffer.allocUnsafeSlow(1 << 20);
  const sent = (json: string): number => sendBuffer.write(json, 0, 'utf8');

  // Each JSON scenario renders one fixed frame, copied out: encoder output is only a view.
  const l2UpdateFrame = encoder.l2Update(symbol, 2, timestamp, 10, 1, 7, bids100.prices, bids100.sizes, 1, asks100.prices, asks100.sizes, 1).slice();
  const tradeFrame = encoder.trade(symbol, 3, timestamp, 3, 670_001, 12_345, 1, 987_654).slice();
  const l2Update8Frame = encoder.l2Update(symbol, 2, timestamp, 10, 1, 7, bids100.prices, bids100.sizes, 8, asks100.prices, asks100.sizes, 8).slice();
  const snapshot100Frame = encoder.l2Snapshot(symbol, 4, timestamp, 10, 1, 5, 7, bids100.prices, bids100.sizes, 100, asks100.prices, asks100.sizes, 100).slice();
  const snapshotFrame = encoder.l2Snapshot(symbol, 4, timestamp, 10, 1, 5, 7, bids100.prices, bids100.sizes, 10, asks100.prices, asks100.sizes, 10).slice();
  const tickerFrame = encoder.ticker(symbol, 5, timestamp, 670_000, 12_345, 670_001, 23_456, 670_000, 100, 987_654_321, 680_000, 660_000, 669_000, 0).slice();
  const l3UpdateFrame = encoder.l3Update(symbol, 2, timestamp, 1, bidChanges.ids, bidChanges.prices, bidChanges.sizes, bidChanges.events, 1,
    askChanges.ids, askChanges.prices, askChanges.sizes, askChanges.events, 1).slice();
  const orders100 = changes(100, 670_000, -1);
  const l3SnapshotFrame = encoder.l3Snapshot(symbol, 4, timestamp, 1, 5, orders100.ids, orders100.prices, orders100.sizes, 100,
    orders100.ids, orders100.prices, orders100.sizes, 100).slice();
  const candleFrame = encoder.candle(symbol, 6, timestamp, 0, start, 670_000, 670_100, 669_900, 670_050, 1_234_567, 827_160_185_000, 57, false, 0, 0).slice();

  const lobsterFrames = lobsterUpdateFrames(encoder, new TextEncoder().encode('GOOG'));
  const lobsterFmt = { priceDecimals: 4, sizeDecimals: 0 };
  let nextLobster = 0;
  const renderLobster = (): number => {
    const frame = lobsterFrames![nextLobster];
    nextLobster = (nextLobster + 1) % lobsterFrames!.length;
    return sent(renderJson(frame, lobsterFmt));
  };

  return [
    { name: 'encode l2Update 1 level', call: l2Update(1, 0) },
    { name: 'fast l2Update 1 level', call: fastL2Update(1, 0) },
    { name: 'encode l2Update 2 levels', call: l2Update(1, 1) },
    { name: 'encode l2Update 2 levels + copy', call: l2UpdateCopied },
    { name: 'fast l2Update 2 levels', call: fastL2Update(1, 1) },
    { name: 'fast l2Update 2 levels, ts from event', call: fastL2UpdateFromEvent },
    { name: 'encode l2Update 3 levels', call: l2Update(2, 1) },
    { name: 'fast l2Update 3 levels', call: fastL2Update(2, 1) },
    { name: 'encode l2Update 8+8 levels', call: l2Update(8, 8) },
    { name: 'fast l2Update 8+8 levels', call: fastL2Update(8, 8) },
    { name: 'encode l3Update 1 change', call: l3Update(1, 0) },
    { name: 'fast l3Update 1 change', call: fastL3Update(1, 0) },
    { name: 'encode l3Update 2 changes', call: l3Update(1, 1) },
    { name: 'fast l3Update 2 changes', call: fastL3Update(1, 1) },
    { name: 'encode trade', call: trade },
    { name: 'fast trade', call: fastTrade },
    { name: 'encode ticker', call: ticker },
    { name: 'fast ticker', call: fastTicker },
    { name: 'template ticker, quote', call: templateTicker(false) },
    { name: 'template ticker, every number', call: templateTicker(true) },
    { name: 'encode candle', call: candle },
    { name: 'fast candle', call: fastCandle },
    { name: 'encode l2Snapshot 10+10', call: l2Snapshot(10) },
    { name: 'encode l2Snapshot 100+100', call: l2Snapshot(100) },
    { name: 'renderJson l2Update 2 levels', call: () => sent(renderJson(l2UpdateFrame, fmt)) },
    { name: 'renderJson l2Update 8+8 levels', call: () => sent(renderJson(l2Update8Frame, fmt)) },
    { name: 'renderJson trade', call: () => sent(renderJson(tradeFrame, fmt)) },
    { name: 'renderJson l2Snapshot 10+10', call: () => sent(renderJson(snapshotFrame, fmt)) },
    { name: 'renderJson l2Snapshot 100+100', call: () => sent(renderJson(snapshot100Frame, fmt)) },
    { name: 'renderJson l3Update 2 changes', call: () => sent(renderJson(l3UpdateFrame, fmt)) },
    { name: 'renderJson l3Snapshot 100+100 orders', call: () => sent(renderJson(l3SnapshotFrame, fmt)) },
    { name: 'renderJson ticker', call: () => sent(renderJson(tickerFrame, fmt)) },
    { name: 'renderJson candle', call: () => sent(renderJson(candleFrame, fmt)) },
    ...(lobsterFrames === null ? [] : [{ name: 'renderJson l2Update, LOBSTER GOOG levels in order', call: renderLobster, variedOutput: true }]),
  ];
}

export async function run(opts: { seconds: number }): Promise<Record<string, Result>> {
  const results: Record<string, Result> = {};
  for (const scenario of scenarios()) {
    const size = scenario.call();
    const allocatedBytesPerCall = measureAllocation(scenario.call);
    const { perSecond, cpuNsPerCall } = measureRate(scenario.call, opts.seconds);
    results[scenario.name] = {
      perSecond: Math.round(perSecond),
      nsPerCall: Math.round(1e9 / perSecond),
      cpuNsPerCall: Math.round(cpuNsPerCall),
      size,
      allocatedBytesPerCall,
      ...(scenario.name.startsWith('renderJson') && scenario.variedOutput !== true ? { beyondOutputBytesPerCall: allocatedBytesPerCall - (Math.ceil((16 + size) / 8) * 8) } : {}),
    };
  }
  return results;
}

if (require.main === module) {
  const seconds = Number(process.argv[2] ?? 1);
  run({ seconds }).then((results) => {
    console.table(results);
  });
}
