/**
 * What every load client process of the gateway benchmarks shares: talking to its parent,
 * opening its connections a few at a time and saying 'ready' once all are, and the tally of a
 * measurement window that every WebSocket client keeps (each message's latency from its intended
 * time into an HDR histogram in µs, with the counts client-protocol.ts's result carries).
 *
 *   latency-client.ts  bookcast's FlatBuffers streams
 *   fanout-client.ts   the fan-out peers (bare uWS, ws, Socket.IO, Soketi)
 *   held-client.ts     thousands of connections kept from step to step (its own protocol)
 *   http-load-client.ts  REST requests (the parent's conversation and 'ready' only)
 *
 * A WebSocket client then differs only in how it opens a connection and reads a message;
 * serveMeasurements runs the rest of client-protocol.ts's conversation for it.
 */
import * as hdr from 'hdr-histogram-js';
import { HIGHEST_TRACKABLE_US, newHistogram, nowMicros } from './child-processes';
import type { FailedMessage, MeasureMessage, ResultMessage } from './client-protocol';

/** Handshakes (connect, upgrade, subscribe) in flight at once, so the server's accept backlog is not flooded. */
export const OPEN_CONCURRENCY = 64;
const CHECK_MS = 20;

export function sendToParent<M extends { type: string }>(message: M, then?: () => void): void {
  process.send!(message, undefined, {}, then);
}

/** How a connection attempt ended: ready (ok), or failed with a reason. */
export type Settle = (ok: boolean, reason: string | null) => void;

/** `settle`, passed on the first call only: a socket may report an error and then its close. */
export function settleOnce(settle: Settle): Settle {
  let settled = false;
  return (ok, reason) => {
    if (settled) return;
    settled = true;
    settle(ok, reason);
  };
}

/**
 * Opens connections 0 … count−1 with `open`, at most `concurrency` not yet settled at a time: a
 * flood of handshakes overflows the server's accept backlog, and the dropped ones come back
 * seconds later. `onSettled` hears of each; the returned function stops launching more.
 */
export function openBounded(count: number, concurrency: number, open: (index: number, settle: Settle) => void, onSettled: Settle): () => void {
  let launched = 0;
  let settled = 0;
  let stopped = false;
  const settle: Settle = (ok, reason) => {
    settled++;
    onSettled(ok, reason);
    launch();
  };
  const launch = () => {
    while (!stopped && launched < count && launched - settled < concurrency) open(launched++, settleOnce(settle));
  };
  launch();
  return () => (stopped = true);
}

/**
 * Counts `total` connections as they become ready and tells the parent: 'ready' once all are,
 * or 'failed' (once) at the first that cannot be, or when `timeoutMs` has passed.
 */
export function awaitConnections(total: number, timeoutMs: number, state: string): Settle {
  let ready = 0;
  let failed = false;
  const fail = (reason: string) => {
    if (failed) return;
    failed = true;
    sendToParent({ type: 'failed', message: reason } satisfies FailedMessage);
  };
  const timer = setTimeout(() => fail(`only ${ready} of ${total} connections ${state} in ${timeoutMs} ms`), timeoutMs);
  return (ok, reason) => {
    if (!ok) fail(reason ?? 'connection failed');
    else if (++ready === total) {
      clearTimeout(timer);
      sendToParent({ type: 'ready' });
    }
  };
}

/** The counts of one measurement window, kept by a client's connections as messages arrive. */
export class WindowTally {
  startUs = Infinity;
  endUs = Infinity;
  /** Set once the window is reported: a connection closing after that is no disconnect. */
  finished = false;
  /** Messages intended inside the window (updates and snapshots), and their bytes. */
  messages = 0;
  bytes = 0;
  /** Latencies recorded. */
  updates = 0;
  /** Latencies below zero (clock skew between processes), recorded as 1 µs. */
  negative = 0;
  gaps = 0;
  resyncs = 0;
  disconnects = 0;
  /** Error frames received (e.g. SLOW_CONSUMER), by code. */
  errors: Record<string, number> = {};
  readonly histogram = newHistogram();

  /** Counts a message intended at `intended` if the window holds it; true when it does. */
  count(intended: number, length: number): boolean {
    if (intended < this.startUs || intended >= this.endUs) return false;
    this.messages++;
    this.bytes += length;
    return true;
  }

  /** Records the latency of a message intended at `intended` and received at `received` (µs). */
  record(intended: number, received: number): void {
    this.updates++;
    let latency = Math.round(received - intended);
    if (latency < 1) {
      if (latency < 0) this.negative++;
      latency = 1;
    }
    this.histogram.recordValue(latency > HIGHEST_TRACKABLE_US ? HIGHEST_TRACKABLE_US : latency);
  }

  error(code: string): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  /** A subscribed connection closed: a disconnect, unless the window is over. */
  closed(): void {
    if (!this.finished) this.disconnects++;
  }
}

/** One connection of a client process, as the window sees it. */
export interface MeasuredConnection {
  /** Its streams that have not delivered a message intended at or after the window's end. */
  lateStreams(): number;
  close(): void;
}

interface Start {
  type: 'start';
  setupTimeoutMs: number;
}

/**
 * Runs a WebSocket client's side of client-protocol.ts: on 'start', opens `total(start)`
 * connections with `open` (connection `index` settles once subscribed, or failed) and says
 * 'ready'; on 'measure', waits until every stream has delivered past the window's end (at most
 * the grace) and reports the tally as 'result'; ends with the parent.
 */
export function serveMeasurements<S extends Start>(tally: WindowTally, total: (start: S) => number, open: (start: S, index: number, settle: Settle) => MeasuredConnection): void {
  const connections: MeasuredConnection[] = [];
  const start = (message: S) => {
    const count = total(message);
    const onSettled = awaitConnections(count, message.setupTimeoutMs, 'subscribed');
    openBounded(count, OPEN_CONCURRENCY, (index, settle) => connections.push(open(message, index, settle)), onSettled);
  };
  const measure = (message: MeasureMessage) => {
    tally.startUs = message.startUs;
    tally.endUs = message.endUs;
    let cpuAtStart: NodeJS.CpuUsage | null = null;
    setTimeout(() => (cpuAtStart = process.cpuUsage()), Math.max(0, (tally.startUs - nowMicros()) / 1000));
    const giveUpUs = tally.endUs + message.graceMs * 1000;
    const check = setInterval(() => {
      const now = nowMicros();
      if (now < tally.endUs) return;
      if (connections.some((c) => c.lateStreams() > 0) && now < giveUpUs) return;
      clearInterval(check);
      report(cpuAtStart);
    }, CHECK_MS);
  };
  const report = (cpuAtStart: NodeJS.CpuUsage | null) => {
    tally.finished = true;
    const cpu = process.cpuUsage(cpuAtStart ?? undefined);
    sendToParent(
      {
        type: 'result',
        histogram: hdr.encodeIntoCompressedBase64(tally.histogram),
        messages: tally.messages,
        updates: tally.updates,
        resyncs: tally.resyncs,
        gaps: tally.gaps,
        disconnects: tally.disconnects,
        errors: tally.errors,
        negative: tally.negative,
        lateStreams: connections.reduce((sum, c) => sum + c.lateStreams(), 0),
        bytes: tally.bytes,
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
      } satisfies ResultMessage,
      () => {
        for (const c of connections) c.close();
        process.disconnect();
      },
    );
  };
  process.on('message', (message: S | MeasureMessage) => {
    if (message.type === 'start') start(message as S);
    else if (message.type === 'measure') measure(message as MeasureMessage);
  });
  // The parent is gone (or done with us): nothing left to measure for.
  process.on('disconnect', () => process.exit(0));
}
