/**
 * Wire codec throughput: MessageEncoder calls per second for the hot messages, renderJson calls
 * per second for the JSON path, and heap bytes allocated per call (what the flatbuffers runtime
 * and the returned view cost; 0 would mean allocation-free).
 *
 *   node dist/bench/wire/encode.js [seconds per scenario, default 1]
 */
import { MessageEncoder } from '../../src/wire/message-encoder';
import { renderJson } from '../../src/wire/json-renderer';

interface Scenario {
  name: string;
  call: () => number;
}

interface Result {
  perSecond: number;
  nsPerCall: number;
  /** Encoded bytes, or rendered JSON characters. */
  size: number;
  allocatedBytesPerCall: number;
}

const BATCH = 10_000;

function measureRate(call: () => number, seconds: number): { perSecond: number; sink: number } {
  let sink = 0;
  for (let i = 0; i < BATCH * 5; i++) sink += call(); // warm up to the optimizing tier
  let calls = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  do {
    for (let i = 0; i < BATCH; i++) sink += call();
    calls += BATCH;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < budget);
  return { perSecond: (calls * 1e9) / Number(elapsed), sink };
}

/**
 * Heap growth over small batches, median of many, so a scavenge inside one batch (which makes
 * its delta negative) does not skew the figure.
 */
function measureAllocation(call: () => number): number {
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

function scenarios(): Scenario[] {
  const encoder = new MessageEncoder();
  const symbol = new TextEncoder().encode('BTC/USD');
  const fmt = { priceDecimals: 1, sizeDecimals: 5 };
  const bids100 = book(100, 670_000, -1);
  const asks100 = book(100, 670_001, 1);
  let sequence = 1_000_000;
  let timestamp = 1_795_307_222_123_456;

  const l2Update = (bidCount: number, askCount: number) => (): number => {
    sequence++;
    timestamp++;
    return encoder.l2Update(symbol, sequence, timestamp, 10, sequence - 1, 0x9e3779b1, bids100.prices, bids100.sizes, bidCount, asks100.prices, asks100.sizes, askCount).length;
  };
  const l2Snapshot = (levels: number) => (): number => {
    sequence++;
    return encoder.l2Snapshot(symbol, sequence, timestamp, levels, 1, 5, 0x9e3779b1, bids100.prices, bids100.sizes, levels, asks100.prices, asks100.sizes, levels).length;
  };
  const trade = (): number => {
    sequence++;
    timestamp++;
    return encoder.trade(symbol, sequence, timestamp, sequence, 670_001, 12_345, 1, 987_654).length;
  };

  // Each JSON scenario renders one fixed frame, copied out: encoder output is only a view.
  const l2UpdateFrame = encoder.l2Update(symbol, 2, timestamp, 10, 1, 7, bids100.prices, bids100.sizes, 1, asks100.prices, asks100.sizes, 1).slice();
  const tradeFrame = encoder.trade(symbol, 3, timestamp, 3, 670_001, 12_345, 1, 987_654).slice();
  const snapshotFrame = encoder.l2Snapshot(symbol, 4, timestamp, 10, 1, 5, 7, bids100.prices, bids100.sizes, 10, asks100.prices, asks100.sizes, 10).slice();

  return [
    { name: 'encode l2Update 1 level', call: l2Update(1, 0) },
    { name: 'encode l2Update 2 levels', call: l2Update(1, 1) },
    { name: 'encode l2Update 3 levels', call: l2Update(2, 1) },
    { name: 'encode trade', call: trade },
    { name: 'encode l2Snapshot 10+10', call: l2Snapshot(10) },
    { name: 'encode l2Snapshot 100+100', call: l2Snapshot(100) },
    { name: 'renderJson l2Update 2 levels', call: () => renderJson(l2UpdateFrame, fmt).length },
    { name: 'renderJson trade', call: () => renderJson(tradeFrame, fmt).length },
    { name: 'renderJson l2Snapshot 10+10', call: () => renderJson(snapshotFrame, fmt).length },
  ];
}

export async function run(opts: { seconds: number }): Promise<Record<string, Result>> {
  const results: Record<string, Result> = {};
  for (const scenario of scenarios()) {
    const size = scenario.call();
    const allocatedBytesPerCall = measureAllocation(scenario.call);
    const { perSecond } = measureRate(scenario.call, opts.seconds);
    results[scenario.name] = {
      perSecond: Math.round(perSecond),
      nsPerCall: Math.round(1e9 / perSecond),
      size,
      allocatedBytesPerCall,
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
