import { runStandalone } from '../standalone';
import { OutMessage } from '../../src/distribution/consumer';
import { STREAM_TRADES } from '../../src/model/streams';
import { nowMicros } from '../../src/util/clock';
import { MessageEncoder } from '../../src/wire/message-encoder';
import { DeliveryLatency } from '../../src/metrics/delivery-latency';
import { measure } from './per-call-cost';

/**
 * DeliveryObserver: what metrics add to the hub's per-message path, in one thread, CPU ns per
 * message and heap bytes per message:
 *   count         the per-type-and-format counter the hub keeps (one Float64Array increment)
 *   count+latency that, plus DeliveryLatency.delivered: one message in SAMPLE_EVERY (16) timed,
 *                 its Envelope timestamp read in place, the clock, one HDR sample (all of metrics)
 * against a loop doing nothing per message but touching the message (baseline). The message is a
 * real trade Envelope in a ring-sized buffer, as the Distributor hands it out.
 */

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
