import { runStandalone } from '../standalone';
import { OutMessage } from '../../src/distribution/consumer';
import { STREAM_TRADES } from '../../src/model/streams';
import { nowMicros } from '../../src/util/clock';
import { MessageEncoder } from '../../src/wire/message-encoder';
import { DeliveryLatency } from '../../src/metrics/delivery-latency';

/**
 * DeliveryObserver: what metrics add to the hub's per-message path, in one thread, CPU ns per
 * message and heap bytes per message:
 *   count         the per-type-and-format counter the hub keeps (one Float64Array increment)
 *   count+latency that, plus DeliveryLatency.delivered: one message in SAMPLE_EVERY (16) timed,
 *                 its Envelope timestamp read in place, the clock, one HDR sample (all of metrics)
 * against a loop doing nothing per message but touching the message (baseline). The message is a
 * real trade Envelope in a ring-sized buffer, as the Distributor hands it out.
 */

const BATCH = 1_000_000;

function measure(call: () => void, seconds: number): { nsPerMessage: number; heapBytesPerMessage: number } {
  for (let i = 0; i < 200_000; i++) call(); // warm-up: optimised code before timing
  let calls = 0;
  const deadline = performance.now() + seconds * 1000;
  const cpu0 = process.cpuUsage();
  while (performance.now() < deadline) {
    for (let i = 0; i < BATCH; i++) call();
    calls += BATCH;
  }
  const cpu = process.cpuUsage(cpu0);
  const deltas: number[] = [];
  for (let round = 0; round < 21; round++) {
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 10_000; i++) call();
    const delta = process.memoryUsage().heapUsed - before;
    if (delta >= 0) deltas.push(delta / 10_000);
  }
  deltas.sort((a, b) => a - b);
  return { nsPerMessage: Math.round((((cpu.user + cpu.system) * 1000) / calls) * 10) / 10, heapBytesPerMessage: deltas.length === 0 ? NaN : Math.round(deltas[deltas.length >> 1] * 10) / 10 };
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const envelope = new MessageEncoder().trade(new TextEncoder().encode('BTC/USD'), 42, nowMicros(), 7, 6_500_000, 1_000, 0, 99);
  const ring = new Uint8Array(1 << 20);
  ring.set(envelope, 4096);
  const m = new OutMessage();
  m.reset(ring, 4096, 4096 + envelope.length);
  m.kind = 5;
  m.stream = STREAM_TRADES;
  const publishedBy = new Float64Array(8 * 3);
  const latency = new DeliveryLatency();
  let sink = 0;
  const each = opts.seconds / 3;
  const baseline = measure(() => {
    sink += m.kind;
  }, each);
  const count = measure(() => {
    publishedBy[m.kind * 3 + 1]++;
  }, each);
  const both = measure(() => {
    publishedBy[m.kind * 3 + 1]++;
    latency.delivered(m);
  }, each);
  return {
    name: 'DeliveryObserver',
    unit: 'CPU ns and heap bytes per message, one thread',
    results: [
      { scenario: 'baseline', ...baseline },
      { scenario: 'count', ...count },
      { scenario: 'count+latency', ...both },
    ],
    latencySamples: latency.window.quantiles(-1).samples,
    sink: sink + publishedBy[16],
  };
}

if (require.main === module) runStandalone(run, 3);
