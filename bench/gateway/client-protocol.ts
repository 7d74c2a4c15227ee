/**
 * Messages between end-to-end-latency.ts (the parent) and latency-client.ts (each forked client
 * process), over the fork IPC channel. Neither side imports the other.
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

export interface ResultMessage {
  type: 'result';
  /** hdr-histogram-js, compressed base64, values in µs. */
  histogram: string;
  /** Binary messages with intended time inside the window (updates and snapshots). */
  messages: number;
  updates: number;
  /** Snapshots after each stream's first one: resynchronisations. */
  resyncs: number;
  /** Updates whose sequence did not follow (whole run, warm-up included). */
  gaps: number;
  /** Connections closed by the server or the network before the end. */
  disconnects: number;
  /** Error frames received (e.g. SLOW_CONSUMER), by code. */
  errors: Record<string, number>;
  /** Latencies below zero (clock skew between processes), recorded as 1 µs. */
  negative: number;
  /** Streams that had not delivered a message past endUs when the grace ran out. */
  lateStreams: number;
  bytes: number;
  /** process.cpuUsage() from startUs until the result, in seconds. */
  cpuSeconds: number;
}

export interface FailedMessage {
  type: 'failed';
  message: string;
}

export type ParentMessage = StartMessage | MeasureMessage;
export type ClientMessage = ReadyMessage | ResultMessage | FailedMessage;
