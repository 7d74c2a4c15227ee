/**
 * One client process of bookcast's WebSocket scenarios (end-to-end-latency.ts, client-sweep.ts,
 * fanout-peers.ts; see client-protocol.ts for the conversation, bench-client.ts for the window).
 * Holds its share of the WebSocket connections, each subscribed to L2 of a few symbols in
 * FlatBuffers format, and for every update measures now − the envelope's timestamp (the event's
 * intended time) with the same clock as the server (performance.timeOrigin + performance.now()).
 *
 * Only what the measurement needs is decoded: the envelope's symbol (as bytes), sequence,
 * timestamp and body type, and an update's prev_sequence. Symbols are the generated SIMnnn/USD,
 * so a stream is found by the three digits of its name rather than a string lookup.
 */
import * as flatbuffers from 'flatbuffers';
import WebSocket from 'ws';
import { Body } from '../../src/wire/generated/bookcast/wire/body';
import { Envelope } from '../../src/wire/generated/bookcast/wire/envelope';
import { L2Update } from '../../src/wire/generated/bookcast/wire/l2update';
import { MeasuredConnection, serveMeasurements, Settle, WindowTally } from './bench-client';
import { nowMicros } from './child-processes';
import type { ConnectionPlan, StartMessage } from './client-protocol';

const MAX_SYMBOL = 1000;
const DIGIT_0 = 0x30;

const tally = new WindowTally();
const envelope = new Envelope();
const update = new L2Update();

/** SIMnnn/USD → nnn; -1 for any other name. */
function symbolNumber(name: Uint8Array | null): number {
  if (name === null || name.length < 6) return -1;
  const n = (name[3] - DIGIT_0) * 100 + (name[4] - DIGIT_0) * 10 + (name[5] - DIGIT_0);
  return n >= 0 && n < MAX_SYMBOL ? n : -1;
}

const NO_SNAPSHOT = 0;
const FRESH = 1;
const LIVE = 2;

/** One connection and the sequence state of each stream it follows. */
class Connection implements MeasuredConnection {
  readonly socket: WebSocket;
  readonly state = new Uint8Array(MAX_SYMBOL);
  readonly last = new Float64Array(MAX_SYMBOL);
  /** 1 once the stream delivered a message intended at or after the window's end. */
  readonly pastEnd = new Uint8Array(MAX_SYMBOL);
  readonly numbers: number[];
  acknowledged = false;

  constructor(url: string, localAddress: string, readonly plan: ConnectionPlan, depth: number, private readonly settle: Settle) {
    this.numbers = plan.symbols.map((s) => symbolNumber(new TextEncoder().encode(s)));
    if (this.numbers.includes(-1)) throw new Error(`latency-client: symbols must be SIMnnn/USD, got ${plan.symbols.join(',')}`);
    const socket = new WebSocket(url, { perMessageDeflate: false, localAddress });
    this.socket = socket;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', channels: ['l2'], symbols: plan.symbols, depth })));
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.onBinary(data);
      else this.onText(data.toString());
    });
    socket.on('error', (err) => {
      if (!this.acknowledged) settle(false, err.message);
    });
    socket.on('close', () => {
      tally.closed();
      if (!this.acknowledged) settle(false, 'closed before the subscription was acknowledged');
    });
  }

  private onText(text: string): void {
    const message = JSON.parse(text) as { type: string; data?: { code?: string } };
    if (message.type === 'subscribed' && !this.acknowledged) {
      this.acknowledged = true;
      this.settle(true, null);
    } else if (message.type === 'error') tally.error(message.data?.code ?? 'UNKNOWN');
  }

  private onBinary(data: Buffer): void {
    const received = nowMicros();
    const bb = new flatbuffers.ByteBuffer(data as Uint8Array as never);
    Envelope.getRootAsEnvelope(bb, envelope);
    const type = envelope.bodyType();
    if (type !== Body.L2Update && type !== Body.L2Snapshot) return;
    const n = symbolNumber(envelope.symbol(flatbuffers.Encoding.UTF8_BYTES) as Uint8Array | null);
    if (n < 0) return;
    const sequence = envelope.sequence();
    const intended = envelope.timestamp();
    if (intended >= tally.endUs) this.pastEnd[n] = 1;
    const inWindow = tally.count(intended, data.length);
    if (type === Body.L2Snapshot) {
      if (this.state[n] !== NO_SNAPSHOT) tally.resyncs++;
      this.state[n] = FRESH;
      this.last[n] = sequence;
      return;
    }
    envelope.body(update);
    const prev = update.prevSequence();
    const last = this.last[n];
    const state = this.state[n];
    const follows = state === LIVE ? prev === last : state === FRESH && prev <= last && sequence > last;
    if (!follows) tally.gaps++;
    this.state[n] = LIVE;
    this.last[n] = sequence;
    if (inWindow) tally.record(intended, received);
  }

  lateStreams(): number {
    let late = 0;
    for (const n of this.numbers) if (this.pastEnd[n] === 0) late++;
    return late;
  }

  close(): void {
    this.socket.terminate();
  }
}

serveMeasurements<StartMessage>(
  tally,
  (start) => start.connections.length,
  (start, index, settle) => new Connection(start.url, start.localAddress, start.connections[index], start.depth, settle),
);
