import * as hdr from 'hdr-histogram-js';
import { runStandalone } from '../standalone';
import { OutMessage } from '../../src/distribution/consumer';
import { RecentMessages } from '../../src/distribution/recent-messages';
import { StreamTable } from '../../src/distribution/streams';
import { STREAM_TRADES } from '../../src/model/streams';
import { nowMicros } from '../../src/util/clock';
import { MessageEncoder } from '../../src/wire/message-encoder';
import { pickInstruments } from '../../src/app/instruments';
import { loadConfig } from '../../src/config';
import { heapBytesPerCall } from '../metrics/per-call-cost';

/**
 * RecentMessages on the distributor's hot path: what the recent-message buffer adds per record,
 * one thread, against a loop that does what the Distributor does anyway (point the OutMessage at
 * the next record, take its shared view, which the outlets take too). The buffer is full, so
 * every record also evicts: the steady state. Cases: a real trade Envelope (~100 bytes) under the
 * count limit, and 512-byte records (a deep L2 update) under the byte limit, where records wrap
 * around the byte area. Turns of TURN records are timed (performance.now(), one per turn, so the
 * clock is not in the per-record cost) into an HDR histogram of ns per record: p50/p99/p99.9/max
 * of the turns, records/s over the whole run, and heap bytes per record (median of 21 samples).
 */

const TURN = 1024;

function histogram(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: 3 });
}

function measure(record: () => void, seconds: number) {
  for (let i = 0; i < 300_000; i++) record(); // warm-up: optimised code before timing
  const h = histogram();
  let records = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const cpu0 = process.cpuUsage();
  for (let now = start; now < deadline; ) {
    for (let i = 0; i < TURN; i++) record();
    const after = performance.now();
    // ns per record in this turn, as an integer for the histogram.
    h.recordValue(Math.max(1, Math.round(((after - now) * 1e6) / TURN)));
    now = after;
    records += TURN;
  }
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return {
    recordsPerSecond: Math.round(records / elapsed),
    cpuNsPerRecord: Math.round((((cpu.user + cpu.system) * 1000) / records) * 10) / 10,
    p50Ns: h.getValueAtPercentile(50),
    p99Ns: h.getValueAtPercentile(99),
    p999Ns: h.getValueAtPercentile(99.9),
    maxNs: h.maxValue,
    heapBytesPerRecord: Math.round(heapBytesPerCall(record) * 10) / 10,
  };
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const streams = new StreamTable(pickInstruments(loadConfig([], {})));
  const trade = new MessageEncoder().trade(new TextEncoder().encode('BTC/USD'), 42, nowMicros(), 7, 6_500_000, 1_000, 0, 99);
  const ring = new Uint8Array(1 << 20);
  ring.set(trade, 4096);
  const m = new OutMessage();
  m.key = streams.index(0, STREAM_TRADES);
  m.stream = STREAM_TRADES;
  let sequence = 1;
  const point = (length: number) => () => {
    m.sequence = sequence++;
    m.reset(ring, 4096, 4096 + length);
  };
  const each = opts.seconds / 4;
  let sink = 0;
  const results: object[] = [];
  for (const [name, length, maxMessages, maxBytes] of [['trade', trade.length, 1024, 256 * 1024], ['512-byte record', 512, 1_000_000, 256 * 1024]] as const) {
    const next = point(length);
    const baseline = measure(() => {
      next();
      sink += m.bytes().length;
    }, each);
    const recent = new RecentMessages(streams, maxMessages, maxBytes);
    const withBuffer = measure(() => {
      next();
      recent.onRecord(m);
    }, each);
    results.push({ scenario: `${name}, baseline`, ...baseline }, { scenario: `${name}, recent buffer`, ...withBuffer, evicted: recent.evicted, held: recent.countAfter(m.key, 0) });
  }
  return {
    name: 'RecentMessages',
    unit: 'ns per record (turns of 1024), records/s and heap bytes per record, one thread',
    results,
    sink,
  };
}

if (require.main === module) runStandalone(run, 4);
