/**
 * A peer fan-out server for fanout-peers.ts, forked in a process of its own (as bookcast runs
 * in its own; see fanout-protocol.ts for the conversation). It publishes one stream of small
 * order-book-like messages to every connected client on an open-loop schedule: message n is due
 * at t0 + n / rate and carries that due time, so a publisher or a transport that falls behind
 * shows as latency at the clients. The schedule is kept by a Metronome (a sleeping thread),
 * not setTimeout, whose 1 ms granularity would dominate the figures; the lateness that remains
 * is reported.
 *
 *   uws        bare uWebSockets.js: subscribe on open, app.publish of the same bytes (the ceiling)
 *   ws         the ws package as a typical Node reference implementation does it:
 *              JSON.stringify once per broadcast, ws.send to every open client
 *   socket.io  Socket.IO: every client joins a room, binary emit to the room
 *   soketi     Soketi (a Pusher-protocol server on uWebSockets.js), in this process: every
 *              client subscribes to a public channel; each message goes through the adapter's
 *              send, the path of Soketi's HTTP events API once the request is authenticated
 *              and parsed, with the ws peer's JSON as the event's `data` string
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadUws } from '../../src/gateway/uws';
import { loadPeer, peerPath } from '../peers';
import { newHistogram, nowMicros } from './child-processes';
import type { FailedMessage } from './client-protocol';
import { AT_SEQUENCE, AT_TIMESTAMP, EVENT, FanoutPeerKind, MESSAGE_BYTES, PublisherMessage, PublisherParentMessage, PublishMessage, SOKETI_APP_ID, TOPIC } from './fanout-protocol';
import { Metronome } from './metronome';

const HOST = '127.0.0.1';
/** As bookcast's default --max-backpressure: past it a connection is closed. */
const MAX_BACKPRESSURE = 4 * 1024 * 1024;
/** Shortest metronome period: at higher rates a tick publishes every message due since the last. */
const MIN_TICK_US = 100;

type Publish = (intended: number, sequence: number) => void;

interface WsClient {
  readyState: number;
  send(data: string): void;
}

interface WsModule {
  WebSocketServer: new (options: { host: string; port: number; perMessageDeflate: boolean }) => {
    clients: Set<WsClient>;
    on(event: 'listening', listener: () => void): void;
    address(): AddressInfo;
  };
  WebSocket: { OPEN: number };
}

interface SoketiServer {
  options: { port: number };
  adapter: { send(appId: string, channel: string, data: string): void };
  /** The uWS listen socket, once listening. */
  serverProcess: unknown;
  start(callback: (server: SoketiServer) => void): Promise<void>;
}

interface SoketiModule {
  Server: new (options: Record<string, unknown>) => SoketiServer;
}

interface SocketIoModule {
  Server: new (server: ReturnType<typeof createServer>, options: { serveClient: boolean }) => {
    on(event: 'connection', listener: (socket: { join(room: string): void }) => void): void;
    to(room: string): { emit(event: string, payload: unknown): void };
  };
}

function serveUws(): Promise<{ port: number; publish: Publish }> {
  const uws = loadUws();
  const app = uws.App();
  app.ws('/*', {
    compression: uws.DISABLED,
    maxBackpressure: MAX_BACKPRESSURE,
    closeOnBackpressureLimit: 1,
    idleTimeout: 0,
    open: (ws) => void ws.subscribe(TOPIC),
  });
  // uWS copies on publish, so one buffer serves every message.
  const bytes = new Uint8Array(MESSAGE_BYTES);
  const view = new DataView(bytes.buffer);
  const publish: Publish = (intended, sequence) => {
    view.setFloat64(AT_TIMESTAMP, intended, true);
    view.setUint32(AT_SEQUENCE, sequence, true);
    app.publish(TOPIC, bytes, true);
  };
  return new Promise((resolve, reject) => {
    app.listen(HOST, 0, (token) => (token ? resolve({ port: uws.us_socket_local_port(token), publish }) : reject(new Error('uWS could not listen'))));
  });
}

/** The JSON peers' message: an order-book-like update carrying the due time and the sequence. */
function jsonUpdate(intended: number, sequence: number): string {
  return JSON.stringify({ type: 'l2_update', symbol: 'SIM001/USD', sequence, timestamp: intended, bids: [['101.25', '3.500']], asks: [['101.27', '1.250']] });
}

function serveWs(): Promise<{ port: number; publish: Publish }> {
  const { WebSocketServer, WebSocket } = loadPeer<WsModule>('ws');
  const wss = new WebSocketServer({ host: HOST, port: 0, perMessageDeflate: false });
  const publish: Publish = (intended, sequence) => {
    const message = jsonUpdate(intended, sequence);
    for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(message);
  };
  return new Promise((resolve) => wss.on('listening', () => resolve({ port: wss.address().port, publish })));
}

function serveSocketIo(): Promise<{ port: number; publish: Publish }> {
  const { Server } = loadPeer<SocketIoModule>('socket.io');
  const http = createServer();
  const io = new Server(http, { serveClient: false });
  io.on('connection', (socket) => socket.join(TOPIC));
  // Socket.IO keeps a reference to the payload until every client's packet is written: a
  // buffer per message, as an application emitting binary would have.
  const publish: Publish = (intended, sequence) => {
    const bytes = Buffer.alloc(MESSAGE_BYTES);
    bytes.writeDoubleLE(intended, AT_TIMESTAMP);
    bytes.writeUInt32LE(sequence, AT_SEQUENCE);
    io.to(TOPIC).emit(EVENT, bytes);
  };
  return new Promise((resolve) => http.listen(0, HOST, () => resolve({ port: (http.address() as AddressInfo).port, publish })));
}

/**
 * Soketi with its defaults (local adapter, one app, no metrics), listening on loopback only; its
 * cluster discovery, which would broadcast UDP hellos to the whole network, sends them to
 * loopback. Soketi depends on uWebSockets.js, which bench/package.json overrides with the
 * product's own npm alias; that package falls back to a slow pure-JavaScript shim when its native
 * binary does not load, so a Soketi that loaded the shim is refused, as bookcast refuses it.
 */
function serveSoketi(): Promise<{ port: number; publish: Publish }> {
  // Soketi announces itself on the console at start, and the aws-sdk it loads warns that it is
  // unmaintained; this process's output is the bench's.
  process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = '1';
  const log = console.log;
  console.log = () => undefined;
  let server: SoketiServer;
  try {
    const { Server } = loadPeer<SoketiModule>('@soketi/soketi');
    if (require.cache[peerPath('uWebSockets.js/dist/index')] !== undefined) throw new Error('Soketi loaded the pure-JavaScript fallback of uWebSockets.js, not its native binary');
    server = new Server({ host: HOST, port: 0, 'metrics.host': HOST, 'metrics.port': 0, 'cluster.address': HOST, 'cluster.unicast': HOST });
  } catch (err) {
    console.log = log;
    return Promise.reject(err);
  }
  const uws = loadPeer<{ us_socket_local_port(socket: unknown): number }>('uWebSockets.js');
  const publish: Publish = (intended, sequence) => {
    server.adapter.send(SOKETI_APP_ID, TOPIC, JSON.stringify({ event: EVENT, channel: TOPIC, data: jsonUpdate(intended, sequence) }));
  };
  return new Promise((resolve, reject) => {
    void server.start((started) => {
      console.log = log;
      const port = started.serverProcess ? uws.us_socket_local_port(started.serverProcess) : -1;
      if (port > 0) resolve({ port, publish });
      else reject(new Error('Soketi could not listen'));
    });
  });
}

function serve(kind: FanoutPeerKind): Promise<{ port: number; publish: Publish }> {
  if (kind === 'uws') return serveUws();
  if (kind === 'ws') return serveWs();
  if (kind === 'socket.io') return serveSocketIo();
  if (kind === 'soketi') return serveSoketi();
  return Promise.reject(new Error(`unknown publisher kind "${kind}"`));
}

function send(message: PublisherMessage): void {
  process.send!(message);
}

let publish: Publish | null = null;
let metronome: Metronome | null = null;
let published = 0;
const lag = newHistogram();

function start(message: PublishMessage): void {
  const periodUs = 1e6 / message.rate;
  metronome = new Metronome(message.t0Us, Math.max(MIN_TICK_US, periodUs), () => {
    const now = nowMicros();
    if (now >= message.stopUs) {
      metronome!.stop();
      return;
    }
    let intended = message.t0Us + published * periodUs;
    while (intended <= now) {
      publish!(intended, published);
      if (intended >= message.startUs && intended < message.endUs) lag.recordValue(Math.max(1, Math.round(now - intended)));
      published++;
      intended = message.t0Us + published * periodUs;
    }
  });
}

function stop(): void {
  metronome?.stop();
  send({ type: 'published', messages: published, lagP50: lag.getValueAtPercentile(50), lagP99: lag.getValueAtPercentile(99) });
}

process.on('message', (message: PublisherParentMessage) => {
  if (message.type === 'serve') {
    serve(message.kind).then(
      (server) => {
        publish = server.publish;
        send({ type: 'listening', port: server.port });
      },
      (err: Error) => send({ type: 'failed', message: err.message } satisfies FailedMessage),
    );
  } else if (message.type === 'publish') start(message);
  else if (message.type === 'stop') stop();
});
// The parent is gone: nobody left to publish for.
process.on('disconnect', () => process.exit(0));
