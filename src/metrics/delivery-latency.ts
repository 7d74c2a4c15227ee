import type { DeliveryObserver } from '../distribution/session-hub';
import type { OutMessage } from '../distribution/consumer';
import { CHANNELS, channelOf, STREAMS } from '../model/streams';
import { nowMicros } from '../util/clock';
import { OutMessageReader } from '../wire/out-message-reader';
import { LatencyWindow } from './latency-window';

/**
 * Event-to-send latency per channel: for each message the SessionHub hands to live sessions,
 * the wall clock now minus the event's timestamp (the Envelope's, stamped by the source: the
 * simulator when it made the event, a publisher or the ingest gateway when it was received).
 * Per message this reads one double from the Envelope in place, reads the clock and records one
 * HDR sample: no allocation (measured in bench/metrics/delivery-observer.ts).
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

  constructor() {
    for (let s = 0; s < STREAMS; s++) this.channelOfStream[s] = CHANNELS.indexOf(channelOf(s));
  }

  delivered(m: OutMessage): void {
    const timestamp = this.reader(m.buffer).timestamp(m.start);
    if (timestamp > 0) this.window.record(this.channelOfStream[m.stream], nowMicros() - timestamp);
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
