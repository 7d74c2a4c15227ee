/**
 * Messages between a scenario that drives WebSocket clients (end-to-end-latency.ts,
 * client-sweep.ts, fanout-peers.ts: the parent) and each forked client process
 * (latency-client.ts, fanout-client.ts), over the fork IPC channel. Neither side imports the other.
 *
 *   parent → client  start    connect and subscribe these connections
 *   client → parent  ready    every connection is open and acknowledged its subscription
 *   parent → client  measure  the measurement window, in intended-time µs
 *   client → parent  result   counts and the encoded latency histogram
 *   client → parent  failed   a connection could not be set up
 */

export interface ConnectionPlan {
  /** Subscribed symbols, e.g. SIM001/USD. */
  symbols: string[];
}

export interface StartMessage {
  type: 'start';
  url: string;
  /**
   * Source address of every connection of this process (127.0.0.x): each address has its own
   * ~28k ephemeral ports, so the clients together never run out of them.
   */
  localAddress: string;
  connections: ConnectionPlan[];
  depth: number;
  /** Give up setting up connections after this long. */
  setupTimeoutMs: number;
}

export interface ReadyMessage {
  type: 'ready';
}

/**
 * Messages whose intended time (envelope timestamp) falls in [startUs, endUs) are measured.
 * After endUs the client waits until every stream has delivered a message intended after
 * endUs (so nothing late inside the window is left out), or until graceMs has passed.
 */
export interface MeasureMessage {
  type: 'measure';
  startUs: number;
  endUs: number;
  graceMs: number;
}

/** What every WebSocket client reports of a window (here in 'result', in held-protocol.ts's 'measured'). */
export interface WindowCounts {
  /** hdr-histogram-js, compressed base64, values in µs. */
  histogram: string;
  /** Binary messages with intended time inside the window (updates and snapshots). */
  messages: number;
  bytes: number;
  /** Latencies below zero (clock skew between processes), recorded as 1 µs. */
  negative: number;
  /** Streams that had not delivered a message past endUs when the grace ran out. */
  lateStreams: number;
  /** Updates whose sequence did not follow. */
  gaps: number;
  /** Snapshots after each stream's first one: resynchronisations. */
  resyncs: number;
  /** Connections closed by the server or the network before the end. */
  disconnects: number;
  /** Error frames received (e.g. SLOW_CONSUMER), by code. */
  errors: Record<string, number>;
}

/** Gaps, resyncs and disconnects count over the whole run, warm-up included. */
export interface ResultMessage extends WindowCounts {
  type: 'result';
  /** Latencies recorded: updates with intended time inside the window. */
  updates: number;
  /** process.cpuUsage() from startUs until the result, in seconds. */
  cpuSeconds: number;
}

export interface FailedMessage {
  type: 'failed';
  message: string;
}

export type ParentMessage = StartMessage | MeasureMessage;
export type ClientMessage = ReadyMessage | ResultMessage | FailedMessage;
