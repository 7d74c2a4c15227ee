/**
 * One client process of the end-to-end latency benchmark (forked by end-to-end-latency.ts; see
 * client-protocol.ts for the conversation). Holds its share of the WebSocket connections, each
 * subscribed to L2 of a few symbols in FlatBuffers format, and for every update measures
 * now − the envelope's timestamp (the event's intended time) into an HDR histogram in µs, with
 * the same clock as the server (performance.timeOrigin + performance.now()).
 *
 * Only what the measurement needs is decoded: the envelope's symbol (as bytes), sequence,
 * timestamp and body type, and an update's prev_sequence. Symbols are the generated SIMnnn/USD,
 * so a stream is found by the three digits of its name rather than a string lookup.
 */
import * as flatbuffers from 'flatbuffers';
import * as hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { Body } from '../../src/wire/generated/bookcast/wire/body';
import { Envelope } from '../../src/wire/generated/bookcast/wire/envelope';
import { L2Update } from '../../src/wire/generated/bookcast/wire/l2update';
import type { ClientMessage, ConnectionPlan, MeasureMessage, ParentMessage, StartMessage } from './client-protocol';
import { nowMicros } from './child-processes';

const MAX_SYMBOL = 1000;
const HIGHEST_US = 60_000_000;
const DIGIT_0 = 0x30;

const histogram = hdr.build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3 });
const envelope = new Envelope();
const update = new L2Update();

let startUs = Infinity;
let endUs = Infinity;
let finished = false;
let messages = 0;
let updates = 0;
let resyncs = 0;
let gaps = 0;
let disconnects = 0;
let negative = 0;
let bytes = 0;
const errors: Record<string, number> = {};

function send(message: ClientMessage, then?: () => void): void {
  process.send!(message, undefined, {}, then);
}

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
class Connection {
  readonly socket: WebSocket;
  readonly state = new Uint8Array(MAX_SYMBOL);
  readonly last = new Float64Array(MAX_SYMBOL);
  /** 1 once the stream delivered a message intended at or after endUs. */
  readonly pastEnd = new Uint8Array(MAX_SYMBOL);
  readonly numbers: number[];
  acknowledged = false;

  constructor(url: string, readonly plan: ConnectionPlan, depth: number, onAcknowledged: () => void, onFailure: (message: string) => void) {
    this.numbers = plan.symbols.map((s) => symbolNumber(new TextEncoder().encode(s)));
    if (this.numbers.includes(-1)) throw new Error(`latency-client: symbols must be SIMnnn/USD, got ${plan.symbols.join(',')}`);
    const socket = new WebSocket(url, { perMessageDeflate: false });
    this.socket = socket;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', channels: ['l2'], symbols: plan.symbols, depth })));
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.onBinary(data);
      else this.onText(data.toString(), onAcknowledged);
    });
    socket.on('error', (err) => {
      if (!this.acknowledged) onFailure(err.message);
    });
    socket.on('close', () => {
      if (!finished) disconnects++;
      if (!this.acknowledged) onFailure('closed before the subscription was acknowledged');
    });
  }

  private onText(text: string, onAcknowledged: () => void): void {
    const message = JSON.parse(text) as { type: string; data?: { code?: string } };
    if (message.type === 'subscribed' && !this.acknowledged) {
      this.acknowledged = true;
      onAcknowledged();
    } else if (message.type === 'error') {
      const code = message.data?.code ?? 'UNKNOWN';
      errors[code] = (errors[code] ?? 0) + 1;
    }
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
    if (intended >= endUs) this.pastEnd[n] = 1;
    const inWindow = intended >= startUs && intended < endUs;
    if (inWindow) {
      messages++;
      bytes += data.length;
    }
    if (type === Body.L2Snapshot) {
      if (this.state[n] !== NO_SNAPSHOT) resyncs++;
      this.state[n] = FRESH;
      this.last[n] = sequence;
      return;
    }
    envelope.body(update);
    const prev = update.prevSequence();
    const last = this.last[n];
    const state = this.state[n];
    const follows = state === LIVE ? prev === last : state === FRESH && prev <= last && sequence > last;
    if (!follows) gaps++;
    this.state[n] = LIVE;
    this.last[n] = sequence;
    if (!inWindow) return;
    updates++;
    let latency = Math.round(received - intended);
    if (latency < 1) {
      if (latency < 0) negative++;
      latency = 1;
    }
    histogram.recordValue(latency > HIGHEST_US ? HIGHEST_US : latency);
  }

  caughtUp(): boolean {
    for (const n of this.numbers) if (this.pastEnd[n] === 0) return false;
    return true;
  }

  lateStreams(): number {
    let late = 0;
    for (const n of this.numbers) if (this.pastEnd[n] === 0) late++;
    return late;
  }
}

const connections: Connection[] = [];
let cpuAtStart: NodeJS.CpuUsage | null = null;

function start(message: StartMessage): void {
  let acknowledged = 0;
  let failed = false;
  const fail = (text: string) => {
    if (failed) return;
    failed = true;
    send({ type: 'failed', message: text });
  };
  const timer = setTimeout(() => fail(`only ${acknowledged} of ${message.connections.length} connections subscribed in ${message.setupTimeoutMs} ms`), message.setupTimeoutMs);
  const onAcknowledged = () => {
    if (++acknowledged === message.connections.length) {
      clearTimeout(timer);
      send({ type: 'ready' });
    }
  };
  for (const plan of message.connections) connections.push(new Connection(message.url, plan, message.depth, onAcknowledged, fail));
}

function measure(message: MeasureMessage): void {
  startUs = message.startUs;
  endUs = message.endUs;
  setTimeout(() => (cpuAtStart = process.cpuUsage()), Math.max(0, (startUs - nowMicros()) / 1000));
  const giveUpUs = endUs + message.graceMs * 1000;
  const check = setInterval(() => {
    const now = nowMicros();
    if (now < endUs) return;
    if (!connections.every((c) => c.caughtUp()) && now < giveUpUs) return;
    clearInterval(check);
    report();
  }, 20);
}

function report(): void {
  finished = true;
  const cpu = process.cpuUsage(cpuAtStart ?? undefined);
  send({
    type: 'result',
    histogram: hdr.encodeIntoCompressedBase64(histogram),
    messages,
    updates,
    resyncs,
    gaps,
    disconnects,
    errors,
    negative,
    lateStreams: connections.reduce((sum, c) => sum + c.lateStreams(), 0),
    bytes,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  }, () => {
    for (const c of connections) c.socket.terminate();
    process.disconnect();
  });
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'start') start(message);
  else if (message.type === 'measure') measure(message);
});
// The parent is gone (or done with us): nothing left to measure for.
process.on('disconnect', () => process.exit(0));
