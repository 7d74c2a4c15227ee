/**
 * One client process of the fan-out comparison for the peer servers (forked by fanout-peers.ts;
 * bookcast's clients are latency-client.ts). It holds its share of the connections, each
 * receiving the publisher's one stream, and measures now − the message's stamped due time, with
 * the clock the publisher stamps with. The conversation and the window are bench-client.ts's,
 * so the parent measures both kinds of clients alike.
 *
 *   transport ws, format binary   bare uWS publisher: float64 due time and uint32 sequence
 *   transport ws, format json     ws publisher: JSON with `timestamp` and `sequence`
 *   transport socket.io           Socket.IO publisher: the binary layout, as an event payload
 *   transport pusher              Soketi: the Pusher protocol (subscribe to a channel; each
 *                                 event's `data` is the ws publisher's JSON, as a string)
 *
 * The ws and Pusher clients use the `ws` package, as bookcast's latency clients do; Socket.IO
 * needs its own.
 */
import WebSocket from 'ws';
import { loadPeer } from '../peers';
import { MeasuredConnection, serveMeasurements, Settle, WindowTally } from './bench-client';
import { nowMicros } from './child-processes';
import { AT_SEQUENCE, AT_TIMESTAMP, EVENT, PeerStartMessage, TOPIC } from './fanout-protocol';

interface SocketIoClient {
  on(event: string, listener: (...args: any[]) => void): void;
  disconnect(): void;
}

type SocketIoConnect = (url: string, options: { transports: string[]; forceNew: boolean; reconnection: boolean; localAddress: string }) => SocketIoClient;

const tally = new WindowTally();

/** One connection: one stream, whose sequence must go up by one. */
class Stream {
  last = -1;
  /** True once a message due at or after the window's end arrived. */
  pastEnd = false;

  receive(intended: number, sequence: number, length: number, received: number): void {
    if (this.last >= 0 && sequence !== this.last + 1) tally.gaps++;
    this.last = sequence;
    if (intended >= tally.endUs) this.pastEnd = true;
    if (tally.count(intended, length)) tally.record(intended, received);
  }

  receiveBinary(data: Buffer): void {
    const received = nowMicros();
    this.receive(data.readDoubleLE(AT_TIMESTAMP), data.readUInt32LE(AT_SEQUENCE), data.length, received);
  }

  receiveJson(text: string, length: number, received: number): void {
    const message = JSON.parse(text) as { timestamp: number; sequence: number };
    this.receive(message.timestamp, message.sequence, length, received);
  }
}

function connection(stream: Stream, close: () => void): MeasuredConnection {
  return { lateStreams: () => (stream.pastEnd ? 0 : 1), close };
}

function openWs(start: PeerStartMessage, settle: Settle): MeasuredConnection {
  const stream = new Stream();
  const socket = new WebSocket(start.url, { perMessageDeflate: false, localAddress: start.localAddress });
  let open = false;
  socket.on('open', () => {
    open = true;
    settle(true, null);
  });
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (start.format === 'binary' && isBinary) stream.receiveBinary(data);
    else if (start.format === 'json' && !isBinary) stream.receiveJson(data.toString(), data.length, nowMicros());
    else tally.error('UNEXPECTED_FRAME');
  });
  socket.on('error', (err) => {
    if (!open) settle(false, err.message);
  });
  socket.on('close', () => {
    tally.closed();
    if (!open) settle(false, 'closed before it opened');
  });
  return connection(stream, () => socket.terminate());
}

/**
 * The Pusher protocol (Soketi): the server greets with pusher:connection_established, the client
 * subscribes to a public channel, and the connection is ready at
 * pusher_internal:subscription_succeeded. Events then carry their payload as a JSON string.
 */
function openPusher(start: PeerStartMessage, settle: Settle): MeasuredConnection {
  const stream = new Stream();
  const socket = new WebSocket(start.url, { perMessageDeflate: false, localAddress: start.localAddress });
  let subscribed = false;
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    const received = nowMicros();
    if (isBinary) {
      tally.error('UNEXPECTED_FRAME');
      return;
    }
    const frame = JSON.parse(data.toString()) as { event: string; data?: unknown };
    if (frame.event === EVENT) stream.receiveJson(frame.data as string, data.length, received);
    else if (frame.event === 'pusher:connection_established') socket.send(JSON.stringify({ event: 'pusher:subscribe', data: { channel: TOPIC } }));
    else if (frame.event === 'pusher_internal:subscription_succeeded' && !subscribed) {
      subscribed = true;
      settle(true, null);
    } else if (frame.event === 'pusher:error') tally.error(`PUSHER_${(frame.data as { code?: number } | undefined)?.code ?? 'ERROR'}`);
  });
  socket.on('error', (err) => {
    if (!subscribed) settle(false, err.message);
  });
  socket.on('close', () => {
    tally.closed();
    if (!subscribed) settle(false, 'closed before the subscription succeeded');
  });
  return connection(stream, () => socket.terminate());
}

function openSocketIo(start: PeerStartMessage, settle: Settle): MeasuredConnection {
  const connect = loadPeer<{ io: SocketIoConnect }>('socket.io-client').io;
  const stream = new Stream();
  const socket = connect(start.url, { transports: ['websocket'], forceNew: true, reconnection: false, localAddress: start.localAddress });
  let open = false;
  socket.on('connect', () => {
    open = true;
    settle(true, null);
  });
  socket.on(EVENT, (data: Buffer | ArrayBuffer) => stream.receiveBinary(Buffer.isBuffer(data) ? data : Buffer.from(data)));
  socket.on('connect_error', (err: Error) => settle(false, err.message));
  socket.on('disconnect', () => {
    if (open) tally.closed();
  });
  return connection(stream, () => socket.disconnect());
}

serveMeasurements<PeerStartMessage>(
  tally,
  (start) => start.connections,
  (start, _index, settle) => (start.transport === 'socket.io' ? openSocketIo(start, settle) : start.transport === 'pusher' ? openPusher(start, settle) : openWs(start, settle)),
);
