import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TemplatedApp } from 'uWebSockets.js';
import { loadUws } from '../../src/gateway/uws';
import { Admission } from '../../src/auth/admission';
import { installAdmission } from '../../src/gateway/http';
import { AnswerMeter } from '../../src/gateway/answer-meter';
import { RestRoutes } from '../../src/gateway/rest-routes';
import { MarketDataRoutes } from '../../src/gateway/market-data-routes';
import { MarketSnapshots } from '../../src/gateway/market-snapshot';
import { CurrencyConverter } from '../../src/gateway/currency-converter';
import { BookMirrorReader, allocateMirror, mirrorWords, M_ASK_COUNT, M_BID_COUNT, M_HEADER_WORDS, M_SEQUENCE, M_TIMESTAMP } from '../../src/engine/book-mirror';
import { SeqlockTable } from '../../src/ring/seqlock-table';
import { MIRROR_DEPTH } from '../../src/model/depths';
import { DEFAULT_INSTRUMENTS, toInstrument } from '../../src/model/instruments';
import { SymbolLookup } from '../../src/gateway/symbol-lookup';
import { UsageBatcher } from '../../src/accounting/usage-batcher';
import { FUNCTION_COST_VALGRIND_ARGS, functionCostNodeArgs, functionCosts, FunctionShare, perfMapPath, perUnitFunctions } from '../callgrind-functions';
import { commandOption } from '../standalone';
import { loadAverage } from '../system';
import { delay } from './server-process';

/**
 * RestAnswerInstructions: user-space instructions the front thread spends per REST answer, under
 * `valgrind --tool=callgrind`, so the figure does not depend on how loaded the machine is (wrk's
 * requests/s and open-loop p99 swing 2–3× between turns at load 20+). Targets, each its own server
 * process under callgrind, this file in `serve` mode:
 *
 *   bookcast orderbook  GET /api/v1/market/BTC-USD/orderbook?depth=20 (20 levels a side)
 *   bookcast latest     GET /api/v1/market-data/BTC-USD/latest
 *   uWS fixed body      bare uWebSockets.js answering the order book's bytes: the ceiling
 *
 * bookcast's server here is its REST answer path alone: the real routes, admission (--auth off),
 * answer meter and usage batcher (its batches go to a thread that drops them, as the persistence
 * worker would take them), over a book mirror filled once. The engine, the store and the request
 * metrics are left out, and so is the kernel's share (the same send and receive per answer for
 * every target). This process drives each server: WARMUP answers with instrumentation off (the
 * JIT settles), then ANSWERS counted, over SOCKETS keep-alive connections, one request in flight
 * on each. Needs valgrind (Debian's `valgrind`); takes a minute or two per target.
 *
 *   node dist/bench/gateway/rest-answer-instructions.js [--functions N]
 *
 * `--functions N` also names the N functions (JavaScript ones by V8's code map) that took most of
 * the front thread's instructions per answer for each target (bench/callgrind-functions.ts).
 */

/**
 * Enough for every function on the answer path to reach TurboFan under valgrind: after 3,000, some
 * still ran as baseline code (22 baseline property loads an answer; ~2,600 instructions more than
 * at 20,000), which a server under load leaves behind within its first second.
 */
const WARMUP = 20_000;
const ANSWERS = 4000;
const SOCKETS = 4;
const START_TIMEOUT_MS = 600_000;
const HOST = '127.0.0.1';
const ORDER_BOOK_PATH = '/api/v1/market/BTC-USD/orderbook?depth=20';

type ServeKind = 'bookcast' | 'uws';

interface Target {
  name: string;
  kind: ServeKind;
  path: string;
}

const TARGETS: readonly Target[] = [
  { name: 'bookcast orderbook', kind: 'bookcast', path: ORDER_BOOK_PATH },
  { name: 'bookcast latest', kind: 'bookcast', path: '/api/v1/market-data/BTC-USD/latest' },
  { name: 'uWS fixed body', kind: 'uws', path: ORDER_BOOK_PATH },
];

/** BTC/USD with 20 levels a side, as the simulator leaves it. */
function filledMirror(slots: number): SharedArrayBuffer {
  const sab = allocateMirror(slots, MIRROR_DEPTH);
  const table = new SeqlockTable(sab, slots, mirrorWords(MIRROR_DEPTH));
  const f = table.f64;
  const b = table.base(0);
  table.beginWrite(0);
  f[b + M_SEQUENCE] = 1234;
  f[b + M_TIMESTAMP] = Date.now() * 1000;
  f[b + M_BID_COUNT] = 20;
  f[b + M_ASK_COUNT] = 20;
  for (let i = 0, w = b + M_HEADER_WORDS; i < 20; i++, w += 4) {
    f[w] = 669990 - i;
    f[w + 1] = 100 + 7 * i;
    f[w + 2] = 669991 + i;
    f[w + 3] = 90 + 5 * i;
  }
  table.endWrite(0);
  return sab;
}

function serveBookcast(app: TemplatedApp): void {
  const instruments = DEFAULT_INSTRUMENTS.map((spec, i) => toInstrument(spec, i));
  const sab = filledMirror(instruments.length);
  installAdmission(app, new Admission('off', null));
  const sink = new Worker("require('node:worker_threads').parentPort.on('message', () => {})", { eval: true });
  sink.unref();
  const usage = new UsageBatcher((batch, buckets) => sink.postMessage({ type: 'usage', batch, buckets }, [batch.numbers]), false, null);
  new AnswerMeter({ record: (row) => usage.record(row), sign: null }, '').install(app);
  const symbols = new SymbolLookup(instruments);
  // Only the snapshot routes are asked for: what the others would need is never reached.
  const unused = null as never;
  new RestRoutes(symbols, new BookMirrorReader(sab, instruments.length, MIRROR_DEPTH), unused, unused, unused, null, () => ({}), false, unused).register(app);
  const snapshots = new MarketSnapshots(new BookMirrorReader(sab, instruments.length, MIRROR_DEPTH), new CurrencyConverter(instruments));
  new MarketDataRoutes(symbols, snapshots, 'bookcast', 'simulator', unused, unused, unused).register(app);
}

function serve(kind: ServeKind, port: number, body: string): void {
  const app = loadUws().App();
  if (kind === 'bookcast') serveBookcast(app);
  else {
    const bytes = new TextEncoder().encode(body);
    app.get('/*', (res) => {
      res.writeHeader('Content-Type', 'application/json').end(bytes);
    });
  }
  app.listen(HOST, port, (token) => {
    if (!token) throw Object.assign(new Error(`could not listen on ${port}`), { code: 'BENCH_LISTEN' });
    console.log('listening');
  });
}

/** Exactly `count` keep-alive GETs of `path` over SOCKETS connections; resolves with the last body. */
function drive(port: number, requestPath: string, count: number): Promise<string> {
  const request = `GET ${requestPath} HTTP/1.1\r\nHost: ${HOST}\r\nUser-Agent: bench\r\n\r\n`;
  let sent = 0;
  let answered = 0;
  let last = '';
  return new Promise((resolve, reject) => {
    for (let c = 0; c < SOCKETS; c++) {
      const socket = net.connect(port, HOST);
      let buffered = '';
      const next = () => (sent < count ? (sent++, socket.write(request, 'latin1')) : socket.end());
      socket.on('connect', next);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('latin1');
        for (;;) {
          const head = buffered.indexOf('\r\n\r\n');
          if (head < 0) return;
          const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, head))?.[1] ?? NaN);
          if (buffered.length < head + 4 + length) return;
          if (!buffered.startsWith('HTTP/1.1 200')) reject(Object.assign(new Error(`answered ${buffered.slice(0, 40)}`), { code: 'BENCH_NOT_200' }));
          last = Buffer.from(buffered.slice(head + 4, head + 4 + length), 'latin1').toString();
          buffered = buffered.slice(head + 4 + length);
          if (++answered === count) resolve(last);
          next();
        }
      });
    }
  });
}

function waitForListening(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`no server within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`server exited (${code}):\n${output}`)));
  });
}

/** The front (first) thread's callgrind dump. */
function mainThreadDump(dir: string): string {
  const file = readdirSync(dir).find((f) => /\.1-01$/.test(f));
  if (file === undefined) throw Object.assign(new Error(`no callgrind dump in ${dir}`), { code: 'BENCH_NO_DUMP' });
  return path.join(dir, file);
}

function dumpTotal(dump: string): number {
  const totals = /^totals: (\d+)/m.exec(readFileSync(dump, 'utf8'));
  return totals === null ? NaN : Number(totals[1]);
}

interface Measured {
  instructionsPerAnswer: number;
  body: string;
  functions: FunctionShare[];
}

async function measure(target: Target, port: number, body: string, top: number): Promise<Measured> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bookcast-callgrind-'));
  const valgrindArgs = top > 0 ? FUNCTION_COST_VALGRIND_ARGS : [];
  const nodeArgs = top > 0 ? functionCostNodeArgs(dir) : [];
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', '--smc-check=all-non-file', ...valgrindArgs, `--callgrind-out-file=${dir}/out.%p`,
      process.execPath, ...nodeArgs, __filename, 'serve', target.kind, String(port), body,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  try {
    await waitForListening(child);
    await drive(port, target.path, WARMUP);
    execFileSync('callgrind_control', ['-i', 'on', String(child.pid)], { stdio: 'ignore' });
    const last = await drive(port, target.path, ANSWERS);
    execFileSync('callgrind_control', ['-i', 'off', String(child.pid)], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['-d', String(child.pid)], { stdio: 'ignore' });
    // The dump is written by the server's own thread: wait for it before the kill.
    for (let i = 0; i < 100 && !readdirSync(dir).some((f) => /\.1-01$/.test(f)); i++) await delay(100);
    await delay(500);
    const dump = mainThreadDump(dir);
    // Counting starts after the warm-up, so the whole dump is the counted answers.
    const functions = top > 0 ? perUnitFunctions(functionCosts(dump, perfMapPath(child.pid!)), new Map(), ANSWERS, top) : [];
    return { instructionsPerAnswer: Math.round(dumpTotal(dump) / ANSWERS), body: last, functions };
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    if (top > 0) rmSync(perfMapPath(child.pid!), { force: true });
  }
}

async function run(): Promise<object> {
  const top = Number(commandOption('--functions') ?? 0);
  if (!Number.isInteger(top) || top < 0) throw Object.assign(new Error('--functions is a count of functions'), { code: 'BENCH_BAD_ARGS' });
  const rows: { target: string; instructionsPerAnswer: number; loadAverage: number[] }[] = [];
  const functions: { target: string; function: string; instructionsPerAnswer: number }[] = [];
  let body = '';
  let port = 19_400 + (process.pid % 500);
  for (const target of TARGETS) {
    const result = await measure(target, port++, body, top);
    for (const f of result.functions) functions.push({ target: target.name, function: f.name, instructionsPerAnswer: f.perUnit });
    // uWS answers with bookcast's own order book bytes.
    if (target.path === ORDER_BOOK_PATH && target.kind === 'bookcast') body = result.body;
    rows.push({ target: target.name, instructionsPerAnswer: result.instructionsPerAnswer, loadAverage: loadAverage() });
  }
  const ceiling = rows.find((r) => r.target === 'uWS fixed body')!.instructionsPerAnswer;
  return {
    name: 'RestAnswerInstructions',
    unit: 'user-space instructions on the front thread per answer (callgrind)',
    warmup: WARMUP,
    answers: ANSWERS,
    sockets: SOCKETS,
    rows: rows.map((r) => ({ ...r, vsUws: Math.round((r.instructionsPerAnswer / ceiling) * 100) / 100 })),
    ...(top > 0 ? { functions } : {}),
  };
}

if (require.main === module) {
  if (process.argv[2] === 'serve') serve(process.argv[3] as ServeKind, Number(process.argv[4]), process.argv[5] ?? '');
  else
    run().then(
      (result) => console.log(JSON.stringify(result, null, 2)),
      (err) => {
        console.error(err);
        process.exitCode = 1;
      },
    );
}
