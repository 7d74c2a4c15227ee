/**
 * One client process of the fan-out comparison for the peer servers (forked by fanout-peers.ts;
 * bookcast's clients are latency-client.ts). It holds its share of the connections, each
 * receiving the publisher's one stream, and measures now − the message's stamped due time into
 * an HDR histogram in µs, with the clock the publisher stamps with. The conversation after
 * 'start' (ready, measure, result) is client-protocol.ts's, so the parent measures both kinds of
 * clients alike.
 *
 *   transport ws, format binary   bare uWS publisher: float64 due time and uint32 sequence
 *   transport ws, format json     ws publisher: JSON with `timestamp` and `sequence`
 *   transport socket.io           Socket.IO publisher: the binary layout, as an event payload
 *
 * The ws clients use the `ws` package, as bookcast's latency clients do; Socket.IO needs its own.
 */
import * as hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { loadPeer } from '../peers';
import { HIGHEST_TRACKABLE_US, newHistogram, nowMicros } from './child-processes';
import type { ClientMessage, MeasureMessage } from './client-protocol';
import { AT_SEQUENCE, AT_TIMESTAMP, EVENT, PeerClientParentMessage, PeerStartMessage } from './fanout-protocol';

interface SocketIoClient {
  on(event: string, listener: (...args: any[]) => void): void;
  disconnect(): void;
}

type SocketIoConnect = (url: string, options: { transports: string[]; forceNew: boolean; reconnection: boolean }) => SocketIoClient;

const histogram = newHistogram();
let startUs = Infinity;
let endUs = Infinity;
let finished = false;
let messages = 0;
let gaps = 0;
let disconnects = 0;
let negative = 0;
let bytes = 0;
const errors: Record<string, number> = {};

function send(message: ClientMessage, then?: () => void): void {
  process.send!(message, undefined, {}, then);
}

/** One connection: one stream, whose sequence must go up by one. */
class Stream {
  last = -1;
  /** True once a message due at or after endUs arrived. */
  pastEnd = false;

  receive(intended: number, sequence: number, length: number, received: number): void {
    if (this.last >= 0 && sequence !== this.last + 1) gaps++;
    this.last = sequence;
    if (intended >= endUs) this.pastEnd = true;
    if (intended < startUs || intended >= endUs) return;
    messages++;
    bytes += length;
    let latency = Math.round(received - intended);
    if (latency < 1) {
      if (latency < 0) negative++;
      latency = 1;
    }
    histogram.recordValue(latency > HIGHEST_TRACKABLE_US ? HIGHEST_TRACKABLE_US : latency);
  }

  receiveBinary(data: Buffer): void {
    const received = nowMicros();
    this.receive(data.readDoubleLE(AT_TIMESTAMP), data.readUInt32LE(AT_SEQUENCE), data.length, received);
  }
}

interface Connection {
  stream: Stream;
  close(): void;
}

function openWs(url: string, format: 'binary' | 'json', onOpen: () => void, onFailure: (message: string) => void): Connection {
  const stream = new Stream();
  const socket = new WebSocket(url, { perMessageDeflate: false });
  let open = false;
  socket.on('open', () => {
    open = true;
    onOpen();
  });
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    if (format === 'binary' && isBinary) stream.receiveBinary(data);
    else if (format === 'json' && !isBinary) {
      const received = nowMicros();
      const message = JSON.parse(data.toString()) as { timestamp: number; sequence: number };
      stream.receive(message.timestamp, message.sequence, data.length, received);
    } else errors.UNEXPECTED_FRAME = (errors.UNEXPECTED_FRAME ?? 0) + 1;
  });
  socket.on('error', (err) => {
    if (!open) onFailure(err.message);
  });
  socket.on('close', () => {
    if (!finished) disconnects++;
    if (!open) onFailure('closed before it opened');
  });
  return { stream, close: () => socket.terminate() };
}

function openSocketIo(url: string, onOpen: () => void, onFailure: (message: string) => void): Connection {
  const connect = loadPeer<{ io: SocketIoConnect }>('socket.io-client').io;
  const stream = new Stream();
  const socket = connect(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  let open = false;
  socket.on('connect', () => {
    open = true;
    onOpen();
  });
  socket.on(EVENT, (data: Buffer | ArrayBuffer) => stream.receiveBinary(Buffer.isBuffer(data) ? data : Buffer.from(data)));
  socket.on('connect_error', (err: Error) => onFailure(err.message));
  socket.on('disconnect', () => {
    if (!finished && open) disconnects++;
  });
  return { stream, close: () => socket.disconnect() };
}

const connections: Connection[] = [];
let cpuAtStart: NodeJS.CpuUsage | null = null;

function start(message: PeerStartMessage): void {
  let opened = 0;
  let failed = false;
  const fail = (text: string) => {
    if (failed) return;
    failed = true;
    send({ type: 'failed', message: text });
  };
  const timer = setTimeout(() => fail(`only ${opened} of ${message.connections} connections open in ${message.setupTimeoutMs} ms`), message.setupTimeoutMs);
  const onOpen = () => {
    if (++opened === message.connections) {
      clearTimeout(timer);
      send({ type: 'ready' });
    }
  };
  for (let i = 0; i < message.connections; i++) {
    connections.push(message.transport === 'socket.io' ? openSocketIo(message.url, onOpen, fail) : openWs(message.url, message.format, onOpen, fail));
  }
}

function measure(message: MeasureMessage): void {
  startUs = message.startUs;
  endUs = message.endUs;
  setTimeout(() => (cpuAtStart = process.cpuUsage()), Math.max(0, (startUs - nowMicros()) / 1000));
  const giveUpUs = endUs + message.graceMs * 1000;
  const check = setInterval(() => {
    const now = nowMicros();
    if (now < endUs) return;
    if (!connections.every((c) => c.stream.pastEnd) && now < giveUpUs) return;
    clearInterval(check);
    report();
  }, 20);
}

function report(): void {
  finished = true;
  const cpu = process.cpuUsage(cpuAtStart ?? undefined);
  send(
    {
      type: 'result',
      histogram: hdr.encodeIntoCompressedBase64(histogram),
      messages,
      updates: messages,
      resyncs: 0,
      gaps,
      disconnects,
      errors,
      negative,
      lateStreams: connections.filter((c) => !c.stream.pastEnd).length,
      bytes,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    },
    () => {
      for (const c of connections) c.close();
      process.disconnect();
    },
  );
}

process.on('message', (message: PeerClientParentMessage) => {
  if (message.type === 'start') start(message);
  else if (message.type === 'measure') measure(message);
});
// The parent is gone (or done with us): nothing left to measure for.
process.on('disconnect', () => process.exit(0));
