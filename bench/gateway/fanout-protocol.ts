/**
 * Messages of the fan-out comparison (fanout-peers.ts, the parent) with its peer publisher
 * (fanout-publisher.ts) and its peer clients (fanout-client.ts), over fork IPC channels. The
 * clients' measuring conversation (ready, measure, result) is the one of the end-to-end
 * benchmark (client-protocol.ts), so the parent drives bookcast's latency clients and the
 * peers' clients alike.
 *
 *   parent → publisher  serve      listen, as this kind of server
 *   publisher → parent  listening  the port
 *   parent → publisher  publish    the open-loop schedule
 *   parent → publisher  stop       stop publishing, report
 *   publisher → parent  published  counts and the publisher's own lateness
 *   parent → client     start      open these connections (then as in client-protocol.ts)
 */
import type { FailedMessage, MeasureMessage } from './client-protocol';

/** uws: bare uWebSockets.js topic publish (the ceiling); ws: the ws package; socket.io: Socket.IO; soketi: Soketi (Pusher protocol). */
export type FanoutPeerKind = 'uws' | 'ws' | 'socket.io' | 'soketi';

/**
 * The peers' binary message (uws, socket.io): float64 intended send time in µs at byte 0,
 * uint32 sequence at byte 8, little-endian, zero fill up to MESSAGE_BYTES. The ws peer sends
 * the same two numbers as JSON (`timestamp`, `sequence`) in an order-book-like update of about
 * the same length; Soketi sends that JSON as the `data` string of a Pusher event.
 */
export const MESSAGE_BYTES = 100;
export const AT_TIMESTAMP = 0;
export const AT_SEQUENCE = 8;
/** The uWS topic, Socket.IO room and Pusher channel every client follows. */
export const TOPIC = 'md';
/** The event name Socket.IO and Pusher messages carry. */
export const EVENT = 'l2';

/** Soketi's default app (id, and the key its clients connect to, ws://host:port/app/<key>). */
export const SOKETI_APP_ID = 'app-id';
export const SOKETI_APP_KEY = 'app-key';

export interface ServeMessage {
  type: 'serve';
  kind: FanoutPeerKind;
}

export interface ListeningMessage {
  type: 'listening';
  port: number;
}

/** Message n is due at t0Us + n / rate; stamped with that time whenever it actually goes out. */
export interface PublishMessage {
  type: 'publish';
  t0Us: number;
  rate: number;
  /** The publisher's lateness is recorded for messages due in [startUs, endUs). */
  startUs: number;
  endUs: number;
  /** Publishing stops here at the latest, whatever the parent does. */
  stopUs: number;
}

export interface StopMessage {
  type: 'stop';
}

export interface PublishedMessage {
  type: 'published';
  messages: number;
  /** µs from a message's due time to its publication (the publisher's own lateness), p50 and p99. */
  lagP50: number;
  lagP99: number;
}

export type PublisherParentMessage = ServeMessage | PublishMessage | StopMessage;
export type PublisherMessage = ListeningMessage | PublishedMessage | FailedMessage;

export interface PeerStartMessage {
  type: 'start';
  url: string;
  /** Source address of every connection of this process (127.0.0.x), as in client-protocol.ts. */
  localAddress: string;
  transport: 'ws' | 'socket.io' | 'pusher';
  format: 'binary' | 'json';
  connections: number;
  setupTimeoutMs: number;
}

export type PeerClientParentMessage = PeerStartMessage | MeasureMessage;
