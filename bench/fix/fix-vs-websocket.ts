import * as flatbuffers from 'flatbuffers';
import * as hdr from 'hdr-histogram-js';
import * as net from 'node:net';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import WebSocket from 'ws';
import { Body } from '../../src/wire/generated/bookcast/wire/body';
import { Envelope } from '../../src/wire/generated/bookcast/wire/envelope';
import { FixParser, PARSE_MESSAGE } from '../../src/fix/fix-codec';
import { nowMicros } from '../../src/util/clock';
import { runStandalone } from '../standalone';
import { loadAverage, round } from '../system';
import { DataDir } from '../gateway/data-dir';
import { ServerProcess } from '../gateway/server-process';

/**
 * FixVsWebSocket: the latency FIX adds over the FlatBuffers WebSocket path, and the messages/s
 * one FIX session receives. One server process (`--symbols BTC/USD --workers 1 --rate R
 * --fix-port P`), one bench process holding one FlatBuffers WebSocket client and one FIX session
 * (raw socket, Logon, MarketDataRequest for L2 depth 10), both following the same stream.
 *
 * Open loop: the simulator stamps each event with the time it was due (Poisson arrivals), and
 * each client's latency is arrival − that time (the WebSocket envelope carries it; the FIX X
 * carries RptSeq, the same sequence, so the FIX arrival is matched to the same event). The
 * figure the issue asks for is the per-message difference, FIX arrival − WebSocket arrival, of
 * the same sequence in the same process: what the FIX path (decode, render, frame, TCP) adds.
 * Both clients share the bench process's event loop, so neither is favoured by scheduling.
 * 2 s of warm-up are discarded at each rate.
 */

const PASSWORD = 'bench-password-1';
const WARMUP_MS = 2000;
const RATES = [2_000, 20_000];

function histogram(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

function summary(h: hdr.Histogram) {
  return { count: h.totalCount, p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), p999: h.getValueAtPercentile(99.9), max: h.maxValue };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function fixMessage(sender: string, seq: number, type: string, fields: [number, string | number][]): string {
  const body = `35=${type}\x0149=${sender}\x0156=BOOKCAST\x0134=${seq}\x0152=20261202-00:00:00.000\x01` + fields.map(([t, v]) => `${t}=${v}\x01`).join('');
  const head = `8=FIX.4.4\x019=${body.length}\x01${body}`;
  let sum = 0;
  for (let i = 0; i < head.length; i++) sum += head.charCodeAt(i);
  return head + `10=${String(sum % 256).padStart(3, '0')}\x01`;
}

interface Point {
  arrivalsPerSecond: number;
  seconds: number;
  websocket: ReturnType<typeof summary> & { messagesPerSecond: number };
  fix: ReturnType<typeof summary> & { messagesPerSecond: number; bytesPerMessage: number };
  /** FIX arrival − WebSocket arrival of the same sequence, µs (negative values counted as 0: FIX first). */
  fixAdds: ReturnType<typeof summary> & { fixFirst: number };
  loadAverage: number[];
}

async function point(rate: number, seconds: number): Promise<Point> {
  const dir = new DataDir();
  const sessions = path.join(dir.path, 'fix-sessions.json');
  writeFileSync(sessions, JSON.stringify({ sessions: [{ senderCompId: 'BENCH', password: PASSWORD }] }));
  const fixPort = await freePort();
  const server = await ServerProcess.start(
    ['--port', '0', '--symbols', 'BTC/USD', '--workers', '1', '--rate', String(rate), '--fix-port', String(fixPort), '--fix-sessions', sessions, '--max-backpressure', String(256 * 1024 * 1024), '--soft-backpressure', String(128 * 1024 * 1024), ...dir.args],
    120_000,
  );
  try {
    let measuring = false;
    const intended = new Map<number, number>();
    const wsAt = new Map<number, number>();
    const fixAt = new Map<number, number>();
    const ws = histogram();
    const fix = histogram();
    const adds = histogram();
    let fixFirst = 0;
    let wsCount = 0;
    let fixCount = 0;
    let fixBytes = 0;
    const match = (seq: number) => {
      const a = wsAt.get(seq);
      const b = fixAt.get(seq);
      if (a === undefined || b === undefined) return;
      wsAt.delete(seq);
      fixAt.delete(seq);
      const t0 = intended.get(seq)!;
      intended.delete(seq);
      ws.recordValue(Math.max(1, a - t0));
      fix.recordValue(Math.max(1, b - t0));
      if (b < a) fixFirst++;
      adds.recordValue(Math.max(1, b - a));
    };

    const envelope = new Envelope();
    const client = new WebSocket(server.url);
    client.on('message', (data: Buffer) => {
      const now = nowMicros();
      const env = Envelope.getRootAsEnvelope(new flatbuffers.ByteBuffer(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)), envelope);
      if (env.bodyType() !== Body.L2Update || !measuring) return;
      const seq = env.sequence();
      wsCount++;
      intended.set(seq, env.timestamp());
      wsAt.set(seq, now);
      match(seq);
    });
    await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
    client.send(JSON.stringify({ type: 'subscribe', channels: ['l2'], symbols: ['BTC/USD'], depth: 10 }));

    const socket = net.connect(fixPort, '127.0.0.1');
    socket.setNoDelay(true);
    const parser = new FixParser(1 << 20);
    let logged = false;
    socket.on('data', (chunk: Buffer) => {
      const now = nowMicros();
      parser.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      while (parser.next() === PARSE_MESSAGE) {
        const m = parser.message!;
        if (m.msgType === 'A') logged = true;
        if (m.msgType !== 'X' || !measuring) continue;
        const seq = Number(m.get(83));
        fixCount++;
        fixAt.set(seq, now);
        match(seq);
      }
    });
    socket.on('data', (chunk: Buffer) => (fixBytes += measuring ? chunk.length : 0));
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write(fixMessage('BENCH', 1, 'A', [[98, 0], [108, 30], [141, 'Y'], [554, PASSWORD]]), 'latin1');
    const deadline = Date.now() + 10_000;
    while (!logged && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!logged) throw new Error('FIX logon not answered');
    socket.write(fixMessage('BENCH', 2, 'V', [[262, 'b'], [263, 1], [264, 10], [265, 1], [267, 2], [269, 0], [269, 1], [146, 1], [55, 'BTC/USD']]), 'latin1');

    await new Promise((r) => setTimeout(r, WARMUP_MS));
    measuring = true;
    const started = Date.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    measuring = false;
    const elapsed = (Date.now() - started) / 1000;
    const load = loadAverage();
    client.close();
    socket.destroy();
    return {
      arrivalsPerSecond: rate,
      seconds: round(elapsed, 1),
      websocket: { ...summary(ws), messagesPerSecond: Math.round(wsCount / elapsed) },
      fix: { ...summary(fix), messagesPerSecond: Math.round(fixCount / elapsed), bytesPerMessage: fixCount === 0 ? 0 : Math.round(fixBytes / fixCount) },
      fixAdds: { ...summary(adds), fixFirst },
      loadAverage: load,
    };
  } finally {
    await server.stop();
    dir.remove();
  }
}

/** `seconds`: measured seconds per rate. */
export async function run(opts: { seconds: number }): Promise<{ points: Point[] }> {
  const points: Point[] = [];
  for (const rate of RATES) points.push(await point(rate, opts.seconds));
  return { points };
}

if (require.main === module) runStandalone(run, 10);
