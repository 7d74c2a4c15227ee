import type { JsonFormat } from '../wire/json-renderer';
import { renderJson } from '../wire/json-renderer';
import { wrapMarketData } from '../wire/market-data-json';
import { Session, Subscription, SUB_LIVE } from './session';
import { FORMAT_BINARY, FORMAT_FEED_JSON, StreamTable } from './streams';
import { marketDataTypeOf } from '../model/streams';

/**
 * How often throttled subscriptions are looked at while one is owed a message (the finest
 * throttle is 100 ms); the timer runs only then, so a server without throttled traffic never wakes for it.
 */
const TICK_MS = 25;

/** One conflated stream: its newest update and its newest closed candle, with versions. */
class Latest {
  bytes: Uint8Array = new Uint8Array(256);
  length = 0;
  version = 0;
  sequence = 0;
  json: string | null = null;
  finalBytes: Uint8Array = new Uint8Array(256);
  finalLength = 0;
  finalVersion = 0;
  finalSequence = 0;
  finalJson: string | null = null;
}

function copyInto(target: Uint8Array, bytes: Uint8Array): Uint8Array {
  const into = target.length >= bytes.length ? target : new Uint8Array(bytes.length * 2);
  into.set(bytes);
  return into;
}

/**
 * Throttled subscriptions (ticker and candles, whose messages each carry a whole state). A
 * throttled connection does not join the stream's topic; at most once per its period it is sent
 * the stream's newest message, preceded by the newest closed candle if it has not had it (a
 * later update never replaces a closed candle). Messages are copied only for streams that have
 * throttled subscribers, and rendered to JSON at most once per version. The first offer arms a
 * TICK_MS timer, which re-arms itself while some subscription is still owed a message and stops
 * once every one has had what it is due.
 */
export class Conflator {
  private readonly latest = new Map<number, Latest>();
  private readonly subscribers = new Set<{ session: Session; stream: number; sub: Subscription }>();
  private version = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly tick = (): void => {
    this.timer = null;
    if (this.flush(Date.now())) this.timer = setTimeout(this.tick, TICK_MS);
  };
  /** Throttled subscriptions by stream: the core copies a stream's messages only while it has some. */
  readonly throttled: Int32Array;

  constructor(
    private readonly streams: StreamTable,
    private readonly formats: readonly JsonFormat[],
  ) {
    this.throttled = new Int32Array(streams.count);
  }

  /** A throttled subscription that has just been sent its snapshot: it is due only what is newer. */
  add(session: Session, stream: number, sub: Subscription): void {
    sub.sentVersion = this.version;
    this.subscribers.add({ session, stream, sub });
    this.throttled[stream]++;
  }

  remove(session: Session, stream: number): void {
    for (const entry of this.subscribers) {
      if (entry.session === session && entry.stream === stream) {
        this.subscribers.delete(entry);
        this.throttled[stream]--;
      }
    }
  }

  /** A message on a stream with throttled subscribers (fan-out thread). */
  offer(stream: number, sequence: number, bytes: Uint8Array, final: boolean): void {
    let l = this.latest.get(stream);
    if (l === undefined) {
      l = new Latest();
      this.latest.set(stream, l);
    }
    const version = ++this.version;
    if (final) {
      l.finalBytes = copyInto(l.finalBytes, bytes);
      l.finalLength = bytes.length;
      l.finalVersion = version;
      l.finalSequence = sequence;
      l.finalJson = null;
    } else {
      l.bytes = copyInto(l.bytes, bytes);
      l.length = bytes.length;
      l.version = version;
      l.sequence = sequence;
      l.json = null;
    }
    if (this.timer === null) this.timer = setTimeout(this.tick, TICK_MS);
  }

  /** Stops the timer (server stop); a later offer would arm it again. */
  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Sends what each throttled subscription is due (its timer's tick; tests call it with their
   * own clock). Returns true while one is owed a message its throttle holds back for now.
   */
  flush(now: number): boolean {
    let owed = false;
    for (const { session, stream, sub } of this.subscribers) {
      const l = this.latest.get(stream);
      if (session.closed || l === undefined || sub.state !== SUB_LIVE) continue;
      const sendFinal = l.finalVersion > sub.sentVersion;
      const sendLatest = l.version > sub.sentVersion && l.version > l.finalVersion;
      if (!sendFinal && !sendLatest) continue;
      if (now - sub.sentAt < sub.throttleMs) {
        owed = true;
        continue;
      }
      sub.sentAt = now;
      const binary = session.format === FORMAT_BINARY;
      if (sendFinal) session.transport.send(this.render(session.format, stream, l, true), binary);
      if (sendLatest) session.transport.send(this.render(session.format, stream, l, false), binary);
      sub.sentVersion = Math.max(sendFinal ? l.finalVersion : 0, sendLatest ? l.version : 0, sub.sentVersion);
      sub.sentSequence = sendLatest ? l.sequence : l.finalSequence;
    }
    return owed;
  }

  private render(format: number, stream: number, l: Latest, final: boolean): Uint8Array | string {
    const bytes = final ? l.finalBytes.subarray(0, l.finalLength) : l.bytes.subarray(0, l.length);
    if (format === FORMAT_BINARY) return bytes;
    let json = final ? l.finalJson : l.json;
    if (json === null) {
      json = renderJson(bytes, this.formats[this.streams.symbolOf(stream)]);
      if (final) l.finalJson = json;
      else l.json = json;
    }
    return format === FORMAT_FEED_JSON ? json : wrapMarketData(json, marketDataTypeOf(this.streams.streamOf(stream)));
  }
}
