import WebSocket from 'ws';
import { decodeMessage } from '../../src/wire/message-decoder';

/** The three WebSocket dialects: feed JSON, feed FlatBuffers, the Market Data API stream. */
export type WsDialect = 'json' | 'flatbuffers' | 'market-data';
export const WS_DIALECTS: readonly WsDialect[] = ['json', 'flatbuffers', 'market-data'];

/** One data message as the log keeps it: enough to find a gap or a duplicate. */
export interface Logged {
  type: string;
  sequence: number;
  /** l2_update: the previous message's sequence; trade: its id. */
  link: number;
}

/** The path of a dialect's endpoint on a server at `url` (ws://host:port). */
export function dialectUrl(url: string, dialect: WsDialect): string {
  if (dialect === 'market-data') return `${url}/api/v1/market-data/stream`;
  return `${url}/ws${dialect === 'flatbuffers' ? '?format=flatbuffers' : ''}`;
}

/** A subscribe to l2 (depth 10) and trades of `symbol` in the dialect, with resume points if any. */
export function subscribeText(dialect: WsDialect, symbol: string, resumeFrom?: object[]): string {
  if (dialect === 'market-data') {
    const payload: Record<string, unknown> = { symbols: [symbol], data_types: ['ORDERBOOK', 'TRADE'], filters: { depth: 10 } };
    if (resumeFrom !== undefined) payload.resume_from = resumeFrom;
    return JSON.stringify({ type: 'SUBSCRIBE', request_id: 'r1', payload });
  }
  return JSON.stringify({ type: 'subscribe', channels: ['l2', 'trades'], symbols: [symbol], depth: 10, ...(resumeFrom === undefined ? {} : { resume_from: resumeFrom }) });
}

/**
 * A real WebSocket client that logs what it gets, in any dialect: data messages in arrival order
 * (l2 updates and snapshots, trades), and control frames (replies, notices, errors) as parsed JSON
 * with the Market Data API's names (RESUME, ERROR, …) as they are.
 */
export class StreamLog {
  readonly data: Logged[] = [];
  readonly control: Record<string, any>[] = [];
  /** Every frame in arrival order: data as its type, control as its type. */
  readonly order: string[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(
    readonly ws: WebSocket,
    readonly dialect: WsDialect,
  ) {
    ws.on('message', (frame: Buffer, binary: boolean) => this.onFrame(frame, binary));
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  static async open(url: string, dialect: WsDialect): Promise<StreamLog> {
    const ws = new WebSocket(dialectUrl(url, dialect));
    const log = new StreamLog(ws, dialect);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return log;
  }

  send(text: string): void {
    this.ws.send(text);
  }

  /** Data messages of a type (l2_update, l2_snapshot, trade). */
  of(type: string): Logged[] {
    return this.data.filter((m) => m.type === type);
  }

  /** Control frames of a type (`resume`, `RESUME`, `error`, `server_shutdown`, …). */
  controls(type: string): Record<string, any>[] {
    return this.control.filter((m) => m.type === type);
  }

  /** The last sequence got on l2 (snapshot or update) and on trades, as resume_from entries. */
  resumePoints(symbol: string): object[] {
    const l2 = this.data.filter((m) => m.type === 'l2_update' || m.type === 'l2_snapshot');
    const trades = this.of('trade');
    const points: object[] = [];
    if (l2.length > 0) points.push({ channel: 'l2', symbol, depth: 10, sequence: l2[l2.length - 1].sequence });
    if (trades.length > 0) points.push({ channel: 'trades', symbol, sequence: trades[trades.length - 1].sequence });
    return points;
  }

  close(): void {
    this.ws.close();
  }

  private onFrame(frame: Buffer, binary: boolean): void {
    if (binary) {
      const m = decodeMessage(new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength));
      if (m.type === 'l2_update') this.push(m.type, m.sequence, m.prevSequence);
      else if (m.type === 'trade') this.push(m.type, m.sequence, m.tradeId);
      else if (m.type === 'l2_snapshot') this.push(m.type, m.sequence, 0);
      return;
    }
    let m = JSON.parse(frame.toString());
    if (this.dialect === 'market-data' && m.type === 'DATA') m = m.payload;
    if (m.type === 'l2_update') this.push(m.type, m.sequence, m.prev_sequence);
    else if (m.type === 'trade') this.push(m.type, m.sequence, m.data.trade_id);
    else if (m.type === 'l2_snapshot') this.push(m.type, m.sequence, 0);
    else if (m.type !== 'heartbeat' && m.type !== 'HEARTBEAT') {
      this.control.push(m);
      this.order.push(m.type);
    }
  }

  private push(type: string, sequence: number, link: number): void {
    this.data.push({ type, sequence, link });
    this.order.push(type);
  }
}

/**
 * Checks that `before` then `after` (one client's two connections) hold exactly what `reference`
 * (a client connected throughout) got of `type` over the span `after` reaches: the same messages,
 * in order, none missing, none twice. Returns a description of the first difference, or null.
 *
 * Messages are compared by sequence and link, except the first: a server sets a depth stream's
 * link to the current sequence when the stream gains its first subscriber there, so the first
 * update a client gets on a server where it started the stream names that snapshot, and the
 * same update names the previous update on a server where the stream was already followed (both
 * are right: right after a snapshot an update may name any earlier message).
 */
export function continuity(reference: Logged[], before: Logged[], after: Logged[]): string | null {
  const joined = [...before, ...after];
  if (joined.length === 0 || after.length === 0) return 'nothing after the resume';
  const first = joined[0];
  const last = after[after.length - 1];
  const key = (m: Logged) => `${m.sequence}/${m.link}`;
  const start = reference.findIndex((m) => m.sequence === first.sequence);
  const end = reference.findIndex((m) => key(m) === key(last));
  if (start < 0 || end < 0) return `the reference does not hold ${start < 0 ? `the first, ${key(first)}` : `the last, ${key(last)}`}`;
  const expected = reference.slice(start, end + 1).map((m, i) => (i === 0 ? String(m.sequence) : key(m)));
  const got = joined.map((m, i) => (i === 0 ? String(m.sequence) : key(m)));
  for (let i = 0; i < Math.max(expected.length, got.length); i++) {
    if (expected[i] !== got[i]) return `message ${i}: expected ${expected[i]}, got ${got[i]} (resume at ${before.length})`;
  }
  return null;
}
