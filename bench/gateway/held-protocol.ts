/**
 * Messages between connections-held.ts (the parent) and held-client.ts (each forked client
 * process), over the fork IPC channel. A client keeps its connections from one step to the next,
 * so the conversation repeats: open more, then measure, step after step.
 *
 *   parent → client  open      open this many more connections, from this source address
 *   client → parent  opened    how the opening went
 *   parent → client  measure   a window in intended-time µs (client-protocol.ts's MeasureMessage)
 *   client → parent  measured  the window's latencies, and counts since the previous report
 *   client → parent  failed    the process cannot go on
 */
import type { FailedMessage, MeasureMessage, WindowCounts } from './client-protocol';

export interface OpenMessage {
  type: 'open';
  url: string;
  /**
   * Source address of every connection of this process (127.0.0.x): each address has its own
   * ~28k ephemeral ports, so the clients together never run out of them.
   */
  localAddress: string;
  count: number;
  /** Scenario-wide index of the first new connection; connection g subscribes symbols[g % length]. */
  firstIndex: number;
  symbols: string[];
  depth: number;
  /** Handshakes (connect, upgrade, subscribe) in flight at once, so the server's accept backlog is not flooded. */
  concurrency: number;
  /** Connections not subscribed by then count as failed. */
  timeoutMs: number;
}

export interface OpenedMessage {
  type: 'opened';
  /** Connections of this process open and subscribed now. */
  open: number;
  /** Of this batch: failed (error, closed, or not subscribed within the timeout). */
  failed: number;
  firstError: string | null;
  /** From the 'open' message to the last connection settled. */
  seconds: number;
}

/**
 * A window's counts (client-protocol.ts's WindowCounts). lateStreams: connections that, when the
 * grace ran out, had delivered neither a message intended past the window nor a heartbeat sent
 * past it naming the sequence they had. Gaps, resyncs, disconnects and errors count since the
 * previous report, opening and warm-up included.
 */
export interface MeasuredMessage extends WindowCounts {
  type: 'measured';
  /** Connections of this process open and subscribed now. */
  open: number;
  /** process.cpuUsage() from the 'measure' message to this report, over the wall time between. */
  cpuCores: number;
}

export type HeldParentMessage = OpenMessage | MeasureMessage;
export type HeldClientMessage = OpenedMessage | MeasuredMessage | FailedMessage;
