import type { DeliveryObserver } from '../distribution/session-hub';
import type { OutMessage } from '../distribution/consumer';
import { CHANNELS, channelOf, STREAMS } from '../model/streams';
import { nowMicros } from '../util/clock';
import { OutMessageReader } from '../wire/out-message-reader';
import { LatencyWindow } from './latency-window';

/**
 * One message in SAMPLE_EVERY of each channel is timed. Timing one costs ~300–400 ns on this
 * machine (the clock alone is 70–85 ns, the Envelope read ~35 ns, and a few heap numbers), over
 * a hundred times the hub's own per-message counter; one in 16 brings the average to a few tens
 * of ns (bench/metrics/delivery-observer.ts) and still gives thousands of samples a second at
 * feed rates. The stride does not depend on latency, so the quantiles are those of all messages,
 * within sampling error; a channel sending fewer than SAMPLE_EVERY messages a window shows none.
 */
export const SAMPLE_EVERY = 16;

/**
 * Event-to-send latency per channel: for the messages the SessionHub hands to live sessions,
 * the wall clock now minus the event's timestamp (the Envelope's, stamped by the source: the
 * simulator when it made the event, a publisher or the ingest gateway when it was received).
 * A timed message's Envelope is read in place, the clock read and one HDR sample recorded.
 *
 * Messages whose event time is not now-ish (a replay at original time) would measure the age of
 * the recording, so the server does not install this for such sources.
 */
export class DeliveryLatency implements DeliveryObserver {
  readonly window = new LatencyWindow(CHANNELS.length);
  /** Channel index (into CHANNELS) of each stream within an instrument. */
  private readonly channelOfStream = new Uint8Array(STREAMS);
  /** One reader per out-ring's bytes, found by identity (a handful of rings). */
  private readonly buffers: Uint8Array[] = [];
  private readonly readers: OutMessageReader[] = [];
  /** Messages seen per channel, for the sampling stride. */
  private readonly seen = new Int32Array(CHANNELS.length);

  constructor() {
    for (let s = 0; s < STREAMS; s++) this.channelOfStream[s] = CHANNELS.indexOf(channelOf(s));
  }

  delivered(m: OutMessage): void {
    const channel = this.channelOfStream[m.stream];
    if ((++this.seen[channel] & (SAMPLE_EVERY - 1)) !== 1) return;
    const timestamp = this.reader(m.buffer).timestamp(m.start);
    if (timestamp > 0) this.window.record(channel, nowMicros() - timestamp);
  }

  private reader(buffer: Uint8Array): OutMessageReader {
    const buffers = this.buffers;
    for (let i = 0; i < buffers.length; i++) if (buffers[i] === buffer) return this.readers[i];
    const reader = new OutMessageReader(buffer);
    buffers.push(buffer);
    this.readers.push(reader);
    return reader;
  }
}
