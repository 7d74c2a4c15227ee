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
import { openBounded, sendToParent, Settle, WindowTally } from './bench-client';
import { nowMicros } from './child-processes';
import type { MeasureMessage } from './client-protocol';
import type { HeldParentMessage, MeasuredMessage, OpenedMessage, OpenMessage } from './held-protocol';

const CHECK_MS = 20;

const tally = new WindowTally();
const envelope = new Envelope();
const update = new L2Update();
const heartbeat = new Heartbeat();
const subscriptionState = new SubscriptionState();

let open = 0;
/** Connections that delivered a message intended at or after the window's end, this window. */
let pastEnd = 0;
/** Counts windows, so a connection's past-the-end mark needs no reset between them. */
let windowNumber = 0;

const NO_SNAPSHOT = 0;
const FRESH = 1;
const LIVE = 2;

/** One connection following one stream. */
class Connection {
  state = NO_SNAPSHOT;
  last = 0;
  /** The window in which this connection last delivered past the window's end. */
  pastEndWindow = -1;
  subscribed = false;

  constructor(url: string, localAddress: string, symbol: string, depth: number, private readonly settle: Settle) {
    const socket = new WebSocket(url, { perMessageDeflate: false, localAddress, skipUTF8Validation: true });
    socket.on('open', () => socket.send(JSON.stringify({ type: 'subscribe', channels: ['l2'], symbols: [symbol], depth })));
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.onBinary(data);
      else this.onText(data.toString());
    });
    socket.on('error', (err) => settle(false, err.message));
    socket.on('close', (code) => {
      if (this.subscribed) {
        open--;
        tally.closed();
      }
      settle(false, `closed (code ${code}) before the subscription was acknowledged`);
    });
  }

  private onText(text: string): void {
    const message = JSON.parse(text) as { type: string; data?: { code?: string } };
    if (message.type === 'subscribed' && !this.subscribed) {
      this.subscribed = true;
      open++;
      this.settle(true, null);
    } else if (message.type === 'error') tally.error(message.data?.code ?? 'UNKNOWN');
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
      if (envelope.timestamp() >= tally.endUs && this.state !== NO_SNAPSHOT && (envelope.body(heartbeat) as Heartbeat).subscriptionsLength() > 0) {
        if (heartbeat.subscriptions(0, subscriptionState)!.sequence() <= this.last) this.markPastEnd();
      }
      return;
    }
    if (type !== Body.L2Update && type !== Body.L2Snapshot) return;
    const sequence = envelope.sequence();
    const intended = envelope.timestamp();
    if (intended >= tally.endUs) this.markPastEnd();
    const inWindow = tally.count(intended, data.length);
    if (type === Body.L2Snapshot) {
      if (this.state !== NO_SNAPSHOT) tally.resyncs++;
      this.state = FRESH;
      this.last = sequence;
      return;
    }
    envelope.body(update);
    const prev = update.prevSequence();
    const follows = this.state === LIVE ? prev === this.last : this.state === FRESH && prev <= this.last && sequence > this.last;
    if (!follows) tally.gaps++;
    this.state = LIVE;
    this.last = sequence;
    if (inWindow) tally.record(intended, received);
  }
}

/** Opens `count` connections, at most `concurrency` handshakes at a time, and reports once all settled. */
function openMore(message: OpenMessage): void {
  const started = performance.now();
  let settled = 0;
  let failed = 0;
  let firstError: string | null = null;
  let reported = false;
  let stopLaunching = () => {};
  const report = () => {
    if (reported) return;
    reported = true;
    clearTimeout(timer);
    stopLaunching();
    // Still pending at the deadline: as good as failed for this step.
    failed += message.count - settled;
    if (firstError === null && failed > 0) firstError = `${message.count - settled} not subscribed within ${message.timeoutMs} ms`;
    sendToParent({ type: 'opened', open, failed, firstError, seconds: (performance.now() - started) / 1000 } satisfies OpenedMessage);
  };
  const timer = setTimeout(report, message.timeoutMs);
  if (message.count === 0) {
    report();
    return;
  }
  stopLaunching = openBounded(
    message.count,
    message.concurrency,
    // The socket's listeners keep the connection alive; nothing else needs to reach it.
    (i, settle) => new Connection(message.url, message.localAddress, message.symbols[(message.firstIndex + i) % message.symbols.length], message.depth, settle),
    (ok, reason) => {
      if (reported) return;
      settled++;
      if (!ok) {
        failed++;
        firstError ??= reason;
      }
      if (settled === message.count) report();
    },
  );
}

function measure(message: MeasureMessage): void {
  windowNumber++;
  tally.startUs = message.startUs;
  tally.endUs = message.endUs;
  pastEnd = 0;
  tally.messages = 0;
  tally.bytes = 0;
  tally.negative = 0;
  tally.histogram.reset();
  // From now to the report, not the window alone: a saturated event loop runs timers seconds late.
  const cpuAtStart = process.cpuUsage();
  const wallAtStart = performance.now();
  const giveUpUs = tally.endUs + message.graceMs * 1000;
  const check = setInterval(() => {
    const now = nowMicros();
    if (now < tally.endUs) return;
    if (pastEnd < open && now < giveUpUs) return;
    clearInterval(check);
    const cpu = process.cpuUsage(cpuAtStart);
    sendToParent({
      type: 'measured',
      histogram: hdr.encodeIntoCompressedBase64(tally.histogram),
      messages: tally.messages,
      bytes: tally.bytes,
      negative: tally.negative,
      lateStreams: Math.max(0, open - pastEnd),
      gaps: tally.gaps,
      resyncs: tally.resyncs,
      disconnects: tally.disconnects,
      errors: tally.errors,
      open,
      cpuCores: (cpu.user + cpu.system) / 1e3 / (performance.now() - wallAtStart),
    } satisfies MeasuredMessage);
    tally.gaps = 0;
    tally.resyncs = 0;
    tally.disconnects = 0;
    tally.errors = {};
  }, CHECK_MS);
}

process.on('message', (message: HeldParentMessage) => {
  if (message.type === 'open') openMore(message);
  else if (message.type === 'measure') measure(message);
});
// The parent is gone or done: the sockets go with the process, and their closing is no disconnect.
process.on('disconnect', () => {
  tally.finished = true;
  process.exit(0);
});
