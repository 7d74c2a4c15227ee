/**
 * Messages between rest-open-loop.ts (the parent) and http-load-client.ts (each forked load
 * process), over the fork IPC channel. Neither side imports the other.
 *
 *   parent → client  start   open these keep-alive connections
 *   client → parent  ready   every connection is open
 *   parent → client  run     the schedule: send from t0Us at the overall rate, measure a window
 *   client → parent  result  counts and the encoded latency histogram
 *   client → parent  failed  a connection could not be opened
 */
import type { FailedMessage } from './client-protocol';

export interface HttpStartMessage {
  type: 'start';
  host: string;
  port: number;
  /** Request target, e.g. /api/v1/market/BTC-USD/orderbook?depth=20. */
  path: string;
  /** Extra request header lines, each ending in CRLF (an API key, a bearer token); absent: none. */
  headers?: string;
  connections: number;
  setupTimeoutMs: number;
}

export interface HttpReadyMessage {
  type: 'ready';
}

/**
 * Request m of the whole run (all processes together) is due at t0Us + m / rate; process p
 * sends m = n·processCount + p, on its connection n mod connections. Requests due in
 * [startUs, endUs) are measured; none is sent from endUs on. After endUs the client waits for
 * the outstanding answers, at most graceMs.
 */
export interface HttpRunMessage {
  type: 'run';
  t0Us: number;
  rate: number;
  processIndex: number;
  processCount: number;
  startUs: number;
  endUs: number;
  graceMs: number;
}

export interface HttpResultMessage {
  type: 'result';
  /** hdr-histogram-js, compressed base64, µs from intended send time to the answer's last byte. */
  histogram: string;
  /** The same, µs from intended send time to the write: the client's lateness plus any wait for room in the pipeline. */
  sendLagHistogram: string;
  /** Requests due in the window and queued on a connection (written at once, or when the pipeline had room). */
  sent: number;
  /** Requests due in the window that were not sent: connection closed, or its queue full. */
  unsent: number;
  /** Answers to requests due in the window. */
  answered: number;
  /** Answers (to any request) whose last byte arrived inside the window: the achieved rate. */
  answeredInWindow: number;
  /** Of `answered`, those whose status was not 2xx. */
  non2xx: number;
  /** Requests due in the window still unanswered when the grace ran out (recorded at their age then). */
  timedOut: number;
  /** Requests due in the window outstanding on a connection that closed. */
  lost: number;
  socketErrors: number;
  /** Connections closed before the end. */
  closed: number;
  /** Answers the parser could not read (no Content-Length, or no request waiting). */
  protocolErrors: number;
  bytes: number;
  /** process.cpuUsage() from startUs until the result, in seconds. */
  cpuSeconds: number;
}

export type HttpParentMessage = HttpStartMessage | HttpRunMessage;
export type HttpClientMessage = HttpReadyMessage | HttpResultMessage | FailedMessage;
