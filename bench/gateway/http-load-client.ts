/**
 * One load process of the open-loop REST benchmark (forked by rest-open-loop.ts; see
 * http-load-protocol.ts for the conversation). It holds K keep-alive HTTP/1.1 connections as raw
 * TCP sockets and sends GET requests on a fixed schedule, whatever the server answers: a request
 * due while its connection still waits for earlier answers is pipelined behind them, up to
 * MAX_IN_FLIGHT; past that it waits in the client until an answer makes room. Each connection
 * keeps the *intended* send time of its outstanding requests (written or waiting) in a FIFO
 * (HTTP/1.1 answers come back in request order), and an answer's latency is its arrival minus
 * that intended time, however long the request waited to be written. A server that falls behind therefore shows as latency instead of a lower
 * request rate, which is what closed-loop tools like wrk hide (coordinated omission; Gil Tene,
 * "How NOT to measure latency", and wrk2's constant-throughput mode).
 *
 * Answers are parsed incrementally, byte by byte through the head (status code and
 * Content-Length, which every target sends) and by length through the body.
 */
import * as net from 'node:net';
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import { awaitConnections, sendToParent, Settle } from './bench-client';
import { HIGHEST_TRACKABLE_US, newHistogram, nowMicros } from './child-processes';
import { Metronome } from './metronome';
import type { HttpParentMessage, HttpResultMessage, HttpRunMessage, HttpStartMessage } from './http-load-protocol';

/** Outstanding requests per connection; past this the schedule is hopelessly behind. */
const FIFO_CAPACITY = 1 << 15;
const FIFO_MASK = FIFO_CAPACITY - 1;
/** Shortest metronome period: at higher rates a tick sends every request due since the last. */
const MIN_TICK_US = 200;
/**
 * Requests written and unanswered per connection at most. Unbounded pipelining would hand a
 * server that fell behind thousands of requests in one read, and answers far beyond what its
 * socket takes, a load no client produces; the wait is still measured from the due time.
 */
const MAX_IN_FLIGHT = 16;
const CR = 0x0d;
const LF = 0x0a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const CONTENT_LENGTH = new TextEncoder().encode('content-length:');
/** Status code digits: "HTTP/1.1 200 OK" columns 9–11. */
const STATUS_FIRST = 9;
const STATUS_END = 12;

const latency = newHistogram();
/** µs from a request's due time to its write: the client's own lateness (and its pipeline's wait). */
const sendLag = newHistogram();
let requestBlock = new Uint8Array(0);
let requestBytes = 0;
let startUs = Infinity;
let endUs = Infinity;
let finished = false;

let sent = 0;
let unsent = 0;
let answered = 0;
let answeredInWindow = 0;
let non2xx = 0;
let timedOut = 0;
let lost = 0;
let socketErrors = 0;
let closed = 0;
let protocolErrors = 0;
let bytes = 0;

function record(histogram: Histogram, latency: number): void {
  histogram.recordValue(latency < 1 ? 1 : latency > HIGHEST_TRACKABLE_US ? HIGHEST_TRACKABLE_US : Math.round(latency));
}

const inWindow = (us: number): boolean => us >= startUs && us < endUs;

class Connection {
  readonly socket: net.Socket;
  readonly fifo = new Float64Array(FIFO_CAPACITY);
  /** FIFO indexes: answered < head ≤ written requests < written ≤ queued requests < tail. */
  head = 0;
  written = 0;
  tail = 0;
  open = false;

  // Parser state of the answer being read.
  private inBody = false;
  private remaining = 0;
  private line = 0;
  private column = 0;
  private status = 0;
  private contentLength = -1;
  private match = 0;
  private inValue = false;

  constructor(host: string, port: number, settle: Settle) {
    const socket = net.connect({ host, port, noDelay: true });
    this.socket = socket;
    socket.on('connect', () => {
      this.open = true;
      settle(true, null);
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => {
      socketErrors++;
      if (!this.open) settle(false, err.message);
    });
    socket.on('close', () => {
      this.open = false;
      if (finished) return;
      closed++;
      for (let i = this.head; i < this.tail; i++) if (inWindow(this.fifo[i & FIFO_MASK])) lost++;
      this.head = this.written = this.tail;
    });
  }

  get outstanding(): number {
    return this.tail - this.head;
  }

  enqueue(intended: number): void {
    const measured = inWindow(intended);
    if (!this.open || this.tail - this.head === FIFO_CAPACITY) {
      if (measured) unsent++;
      return;
    }
    if (measured) sent++;
    this.fifo[this.tail & FIFO_MASK] = intended;
    this.tail++;
  }

  /** Writes queued requests, as many as MAX_IN_FLIGHT leaves room for, in one write. */
  flush(now: number): void {
    if (!this.open) return;
    const room = MAX_IN_FLIGHT - (this.written - this.head);
    const queued = this.tail - this.written;
    const n = queued < room ? queued : room;
    if (n <= 0) return;
    this.socket.write(requestBlock.subarray(0, n * requestBytes));
    for (let i = this.written; i < this.written + n; i++) {
      const intended = this.fifo[i & FIFO_MASK];
      if (inWindow(intended)) record(sendLag, now - intended);
    }
    this.written += n;
  }

  private onData(chunk: Buffer): void {
    const arrived = nowMicros();
    bytes += chunk.length;
    const length = chunk.length;
    let i = 0;
    while (i < length) {
      if (this.inBody) {
        const take = this.remaining < length - i ? this.remaining : length - i;
        i += take;
        this.remaining -= take;
        if (this.remaining === 0) this.complete(arrived);
        continue;
      }
      const b = chunk[i++];
      if (b === LF) {
        if (this.column > 0) {
          this.line++;
          this.column = 0;
          this.match = 0;
          this.inValue = false;
        } else if (this.contentLength < 0) {
          // Chunked or close-delimited answers are not what any target sends; stop reading.
          protocolErrors++;
          this.socket.destroy();
          return;
        } else {
          this.inBody = true;
          this.remaining = this.contentLength;
          if (this.remaining === 0) this.complete(arrived);
        }
        continue;
      }
      if (b === CR) continue;
      if (this.line === 0) {
        if (this.column >= STATUS_FIRST && this.column < STATUS_END) this.status = this.status * 10 + b - DIGIT_0;
      } else if (this.inValue) {
        if (b >= DIGIT_0 && b <= DIGIT_9) this.contentLength = this.contentLength * 10 + b - DIGIT_0;
      } else if (this.column === this.match && (b | 0x20) === CONTENT_LENGTH[this.match]) {
        if (++this.match === CONTENT_LENGTH.length) {
          this.inValue = true;
          this.contentLength = 0;
        }
      }
      this.column++;
    }
    // Answers made room for requests waiting here, and maybe more came due meanwhile.
    if (sending) pump(arrived);
    else this.flush(arrived);
  }

  private complete(arrived: number): void {
    const status = this.status;
    this.inBody = false;
    this.line = 0;
    this.column = 0;
    this.status = 0;
    this.contentLength = -1;
    this.match = 0;
    this.inValue = false;
    if (this.head === this.written) {
      protocolErrors++;
      return;
    }
    const intended = this.fifo[this.head & FIFO_MASK];
    this.head++;
    if (inWindow(arrived)) answeredInWindow++;
    if (!inWindow(intended)) return;
    answered++;
    if (status < 200 || status >= 300) non2xx++;
    record(latency, arrived - intended);
  }

  /** Requests due in the window still waiting at give-up: recorded at their age, a lower bound. */
  abandon(now: number): void {
    for (let i = this.head; i < this.tail; i++) {
      const intended = this.fifo[i & FIFO_MASK];
      if (!inWindow(intended)) continue;
      timedOut++;
      record(latency, now - intended);
    }
    this.head = this.written = this.tail;
  }
}

const connections: Connection[] = [];

function start(message: HttpStartMessage): void {
  const request = new TextEncoder().encode(`GET ${message.path} HTTP/1.1\r\nHost: ${message.host}:${message.port}\r\n${message.headers ?? ''}\r\n`);
  requestBytes = request.length;
  requestBlock = new Uint8Array(requestBytes * MAX_IN_FLIGHT);
  for (let k = 0; k < MAX_IN_FLIGHT; k++) requestBlock.set(request, k * requestBytes);

  const settle = awaitConnections(message.connections, message.setupTimeoutMs, 'open');
  for (let k = 0; k < message.connections; k++) connections.push(new Connection(message.host, message.port, settle));
}

// The schedule of this process: its request n is due at t0Us + (n·step + offset)·periodUs.
let sending = false;
let t0Us = 0;
let periodUs = 0;
let step = 1;
let offset = 0;
let scheduled = 0;

/**
 * Sends every request due by `now`, each stamped with its own due time, and returns the next due
 * time. Called on every metronome tick and after every chunk read, so sends keep close to the
 * schedule without a spinning loop; the lag that remains is reported (sendLag), not hidden.
 */
function pump(now: number): number {
  const k = connections.length;
  let intended = t0Us + (scheduled * step + offset) * periodUs;
  while (intended <= now && intended < endUs) {
    connections[scheduled % k].enqueue(intended);
    scheduled++;
    intended = t0Us + (scheduled * step + offset) * periodUs;
  }
  for (const c of connections) c.flush(now);
  return intended;
}

function run(message: HttpRunMessage): void {
  startUs = message.startUs;
  endUs = message.endUs;
  t0Us = message.t0Us;
  periodUs = 1e6 / message.rate;
  step = message.processCount;
  offset = message.processIndex;
  let cpuAtStart: NodeJS.CpuUsage | null = null;
  setTimeout(() => (cpuAtStart = process.cpuUsage()), Math.max(0, (startUs - nowMicros()) / 1000));

  const drain = () => {
    const giveUpUs = endUs + message.graceMs * 1000;
    const check = setInterval(() => {
      const now = nowMicros();
      if (connections.some((c) => c.outstanding > 0) && now < giveUpUs) return;
      clearInterval(check);
      for (const c of connections) c.abandon(now);
      report(cpuAtStart);
    }, 5);
  };
  const metronome = new Metronome(t0Us, Math.max(MIN_TICK_US, periodUs * step), () => {
    if (pump(nowMicros()) < endUs) return;
    metronome.stop();
    sending = false;
    drain();
  });
  sending = true;
}

function report(cpuAtStart: NodeJS.CpuUsage | null): void {
  finished = true;
  const cpu = process.cpuUsage(cpuAtStart ?? undefined);
  sendToParent(
    {
      type: 'result',
      histogram: hdr.encodeIntoCompressedBase64(latency),
      sendLagHistogram: hdr.encodeIntoCompressedBase64(sendLag),
      sent,
      unsent,
      answered,
      answeredInWindow,
      non2xx,
      timedOut,
      lost,
      socketErrors,
      closed,
      protocolErrors,
      bytes,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
    } satisfies HttpResultMessage,
    () => {
      for (const c of connections) c.socket.destroy();
      process.disconnect();
    },
  );
}

process.on('message', (message: HttpParentMessage) => {
  if (message.type === 'start') start(message);
  else if (message.type === 'run') run(message);
});
// The parent is gone (or done with us): nothing left to measure for.
process.on('disconnect', () => process.exit(0));
