/**
 * One client process of the connections-held benchmark (forked by connections-held.ts; see
 * held-protocol.ts for the conversation). It holds up to a few thousand WebSocket connections
 * from its own source address, each subscribed to L2 of one symbol in FlatBuffers, and adds more
 * whenever the parent asks, keeping the ones it has. For every update it measures now − the
 * envelope's timestamp (the event's intended time) into an HDR histogram in µs, with the clock
 * the server stamps with, and checks the stream's prev_sequence continuity.
 *
 * Light on purpose, since one process holds thousands of sockets: a connection is one object
 * following one stream (no per-symbol tables as in latency-client.ts), and only the envelope's
 * sequence, timestamp and body type, an update's prev_sequence and a heartbeat's sequence.
 *
 * A window is over for a connection once it delivered a message intended after the window, or a
 * heartbeat sent after the window naming the sequence it already has: a quiet stream (one of a
 * thousand symbols gets a message a second) may carry nothing for seconds, yet is not behind.
 */
import * as flatbuffers from 'flatbuffers';
import * as hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { Body } from '../../src/wire/generated/bookcast/wire/body';
import { Envelope } from '../../src/wire/generated/bookcast/wire/envelope';
import { Heartbeat } from '../../src/wire/generated/bookcast/wire/heartbeat';
import { L2Update } from '../../src/wire/generated/bookcast/wire/l2update';
import { SubscriptionState } from '../../src/wire/generated/bookcast/wire/subscription-state';
import { HIGHEST_TRACKABLE_US, newHistogram, nowMicros } from './child-processes';
import type { MeasureMessage } from './client-protocol';
import type { HeldClientMessage, HeldParentMessage, OpenMessage } from './held-protocol';

const CHECK_MS = 20;

const histogram = newHistogram();
const envelope = new Envelope();
const update = new L2Update();
const heartbeat = new Heartbeat();
const subscriptionState = new SubscriptionState();

let startUs = Infinity;
let endUs = Infinity;
let finished = false;
let open = 0;
/** Connections that delivered a message intended at or after endUs, this window. */
let pastEnd = 0;
let messages = 0;
let bytes = 0;
let negative = 0;
let gaps = 0;
let resyncs = 0;
let disconnects = 0;
let errors: Record<string, number> = {};
/** Counts windows, so a connection's past-the-end mark needs no reset between them. */
let windowNumber = 0;

function send(message: HeldClientMessage, then?: () => void): void {
  process.send!(message, undefined, {}, then);
}

const NO_SNAPSHOT = 0;
const FRESH = 1;
const LIVE = 2;

/** Settles once: subscribed (ok) or failed with a reason. */
type Settle = (ok: boolean, reason: string | null) => void;

/** One connection following one stream. */
class Connection {
  state = NO_SNAPSHOT;
  last = 0;
  /** The window in which this connection last delivered past endUs. */
  pastEndWindow = -1;
  subscribed = false;
  private settle: Settle | null;

  constructor(url: string, localAddress: string, symbol: string, depth: number, settle: Settle) {
    this.settle = settle;
    const socket = new WebSocket(url, { perMessageDeflate: false, localAddress, skipUTF8Validation: true });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', channels: ['l2'], symbols: [symbol], depth })));
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.onBinary(data);
      else this.onText(data.toString());
    });
    socket.on('error', (err) => this.fail(err.message));
    socket.on('close', (code) => {
      if (this.subscribed) {
        open--;
        if (!finished) disconnects++;
      }
      this.fail(`closed (code ${code}) before the subscription was acknowledged`);
    });
  }

  private fail(reason: string): void {
    const settle = this.settle;
    if (settle === null) return;
    this.settle = null;
    settle(false, reason);
  }

  private onText(text: string): void {
    const message = JSON.parse(text) as { type: string; data?: { code?: string } };
    if (message.type === 'subscribed' && this.settle !== null) {
      this.subscribed = true;
      open++;
      const settle = this.settle;
      this.settle = null;
      settle(true, null);
    } else if (message.type === 'error') {
      const code = message.data?.code ?? 'UNKNOWN';
      errors[code] = (errors[code] ?? 0) + 1;
    }
  }

  private markPastEnd(): void {
    if (this.pastEndWindow === windowNumber) return;
    this.pastEndWindow = windowNumber;
    pastEnd++;
  }

  private onBinary(data: Buffer): void {
    const received = nowMicros();
    Envelope.getRootAsEnvelope(new flatbuffers.ByteBuffer(data as Uint8Array as never), envelope);
    const type = envelope.bodyType();
    if (type === Body.Heartbeat) {
      if (envelope.timestamp() >= endUs && this.state !== NO_SNAPSHOT && (envelope.body(heartbeat) as Heartbeat).subscriptionsLength() > 0) {
        if (heartbeat.subscriptions(0, subscriptionState)!.sequence() <= this.last) this.markPastEnd();
      }
      return;
    }
    if (type !== Body.L2Update && type !== Body.L2Snapshot) return;
    const sequence = envelope.sequence();
    const intended = envelope.timestamp();
    if (intended >= endUs) this.markPastEnd();
    const inWindow = intended >= startUs && intended < endUs;
    if (inWindow) {
      messages++;
      bytes += data.length;
    }
    if (type === Body.L2Snapshot) {
      if (this.state !== NO_SNAPSHOT) resyncs++;
      this.state = FRESH;
      this.last = sequence;
      return;
    }
    envelope.body(update);
    const prev = update.prevSequence();
    const follows = this.state === LIVE ? prev === this.last : this.state === FRESH && prev <= this.last && sequence > this.last;
    if (!follows) gaps++;
    this.state = LIVE;
    this.last = sequence;
    if (!inWindow) return;
    let latency = Math.round(received - intended);
    if (latency < 1) {
      if (latency < 0) negative++;
      latency = 1;
    }
    histogram.recordValue(latency > HIGHEST_TRACKABLE_US ? HIGHEST_TRACKABLE_US : latency);
  }
}

/** Opens `count` connections, at most `concurrency` handshakes at a time, and reports once all settled. */
function openMore(message: OpenMessage): void {
  const started = performance.now();
  let launched = 0;
  let settled = 0;
  let failed = 0;
  let firstError: string | null = null;
  let reported = false;
  const report = () => {
    if (reported) return;
    reported = true;
    clearTimeout(timer);
    // Still pending at the deadline: as good as failed for this step.
    failed += message.count - settled;
    if (firstError === null && failed > 0) firstError = `${message.count - settled} not subscribed within ${message.timeoutMs} ms`;
    send({ type: 'opened', open, failed, firstError, seconds: (performance.now() - started) / 1000 });
  };
  const timer = setTimeout(report, message.timeoutMs);
  const onSettled: Settle = (ok, reason) => {
    if (reported) return;
    settled++;
    if (!ok) {
      failed++;
      firstError ??= reason;
    }
    if (settled === message.count) report();
    else launch();
  };
  const launch = () => {
    while (launched < message.count && launched - settled < message.concurrency) {
      const index = message.firstIndex + launched++;
      const symbol = message.symbols[index % message.symbols.length];
      // The socket's listeners keep the connection alive; nothing else needs to reach it.
      new Connection(message.url, message.localAddress, symbol, message.depth, onSettled);
    }
  };
  if (message.count === 0) report();
  else launch();
}

function measure(message: MeasureMessage): void {
  windowNumber++;
  startUs = message.startUs;
  endUs = message.endUs;
  pastEnd = 0;
  messages = 0;
  bytes = 0;
  negative = 0;
  histogram.reset();
  // From now to the report, not the window alone: a saturated event loop runs timers seconds late.
  const cpuAtStart = process.cpuUsage();
  const wallAtStart = performance.now();
  const giveUpUs = endUs + message.graceMs * 1000;
  const check = setInterval(() => {
    const now = nowMicros();
    if (now < endUs) return;
    if (pastEnd < open && now < giveUpUs) return;
    clearInterval(check);
    const cpu = process.cpuUsage(cpuAtStart);
    send({
      type: 'measured',
      histogram: hdr.encodeIntoCompressedBase64(histogram),
      messages,
      bytes,
      negative,
      lateStreams: Math.max(0, open - pastEnd),
      gaps,
      resyncs,
      disconnects,
      errors,
      open,
      cpuCores: (cpu.user + cpu.system) / 1e3 / (performance.now() - wallAtStart),
    });
    gaps = 0;
    resyncs = 0;
    disconnects = 0;
    errors = {};
  }, CHECK_MS);
}

process.on('message', (message: HeldParentMessage) => {
  if (message.type === 'open') openMore(message);
  else if (message.type === 'measure') measure(message);
});
// The parent is gone or done: the sockets go with the process, and their closing is no disconnect.
process.on('disconnect', () => {
  finished = true;
  process.exit(0);
});
