import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { DEFAULT_INSTRUMENTS, toInstrument } from '../../src/model/instruments';
import { startTestServer, TestServer } from '../../test/helpers/test-server';
import { Findings } from './findings';
import { FuzzInputs } from './fuzz-inputs';
import { compareBooks, fuzzIngest } from './ingest-target';
import { fuzzRest } from './rest-target';
import { fuzzSocket } from './socket-targets';

/**
 * A bounded fuzz run: a fresh real server per target, inputs generated in process from one seed
 * and sent over loopback sockets, stopping at `inputs` or `seconds`, whichever comes first.
 * Passes when nothing crashed, every error answer had a catalog code, memory did not grow
 * (after GC, from warm-up to the end of each target) and the ingest books equal the model's.
 */
export interface FuzzOptions {
  inputs: number;
  /** The time limit of each target (from its server's start to its last input). */
  seconds: number;
  seed: number;
  /** Prints progress lines (the CLI); tests pass nothing. */
  log?: (line: string) => void;
  /** Whether memory growth fails the run (too few inputs cannot tell growth from warm-up). */
  checkMemory: boolean;
}

export interface Memory {
  rss_mb: number;
  heap_mb: number;
}

export interface TargetResult {
  target: string;
  inputs: number;
  seconds: number;
  inputs_per_s: number;
  /** Seconds the target's server took to start (not counted in `seconds`). */
  server_start_s: number;
  answers: Record<string, number>;
  findings: Record<string, { count: number; examples: string[] }>;
  memory: { start: Memory; end: Memory; rss_ratio: number; heap_ratio: number; grew: boolean };
  extra?: Record<string, unknown>;
}

export interface FuzzResult {
  seed: number;
  inputs: number;
  seconds: number;
  inputs_per_s: number;
  crashed: string | null;
  uncoded_answers: number;
  findings: number;
  memory_grew: boolean;
  books_equal: boolean;
  ok: boolean;
  targets: TargetResult[];
}

const TOKEN = 'fuzz-publisher-token-0123456789';
const MAX_MESSAGE_BYTES = 4096;
/** Shares of the inputs: the WebSocket dialects and ingest are cheap per input, REST is not. */
const SHARES: readonly [string, number][] = [
  ['rest', 0.08],
  ['ws-json', 0.24],
  ['ws-flatbuffers', 0.24],
  ['market-data-stream', 0.24],
  ['ingest', 0.2],
];
/** Memory may grow this much from warm-up to the end of a target (caches filling, JIT, arenas). */
const HEAP_RATIO = 1.5;
const HEAP_SLACK_MB = 24;
const RSS_RATIO = 1.5;
const RSS_SLACK_MB = 96;

/** gc() whether or not node was started with --expose-gc. */
function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const log = options.log ?? (() => undefined);
  const gc = collector();
  const measure = (): Memory => {
    gc();
    gc();
    const m = process.memoryUsage();
    return { rss_mb: Math.round(m.rss / 2 ** 20), heap_mb: Math.round(m.heapUsed / 2 ** 20) };
  };
  const started = Date.now();
  const instruments = DEFAULT_INSTRUMENTS.map((s, i) => toInstrument(s, i));
  const symbols = instruments.map((i) => i.symbol);
  const targets: TargetResult[] = [];
  let crashed: string | null = null;
  let booksEqual = true;

  for (const [index, [name, share]] of SHARES.entries()) {
    const startedTarget = Date.now();
    const count = Math.max(1, Math.round(options.inputs * share));
    const inputs = new FuzzInputs(options.seed * 1000 + index, symbols, MAX_MESSAGE_BYTES);
    const findings = new Findings();
    const args =
      name === 'ingest'
        ? ['--source', 'ingest', '--publisher-token', TOKEN, '--workers', '2']
        : ['--rate', '200', '--workers', '2', '--max-messages-per-second', '1000000', '--max-message-bytes', String(MAX_MESSAGE_BYTES)];
    const server: TestServer = await startTestServer(args);
    // Each target may take `seconds`, counted from its server's start (which a busy machine can
    // make slow), so a slow target cannot starve the others.
    const targetDeadline = Date.now() + options.seconds * 1000;
    const serverStart = (Date.now() - startedTarget) / 1000;
    let failure: string | null = null;
    void server.server.failed.then((e) => (failure = `${e.code}: ${e.message}`));
    const warmUp = Math.min(20_000, Math.ceil(count * 0.05));
    let start: Memory | null = null;
    const progress = (sent: number) => {
      if (start === null && sent >= warmUp) start = measure();
    };
    const t0 = Date.now();
    let sent = 0;
    let extra: Record<string, unknown> | undefined;
    try {
      if (name === 'rest') sent = await fuzzRest(server.server.port, inputs, findings, count, targetDeadline, progress);
      else if (name === 'ingest') {
        const target = { url: server.url, http: server.http, token: TOKEN, instruments, inputs, findings };
        const outcome = await fuzzIngest(target, count, targetDeadline, progress);
        sent = outcome.sent;
        const books = await compareBooks(target, outcome.model);
        booksEqual = books.equal === books.symbols && findings.findings['valid events not acknowledged'] === undefined;
        const health = (await server.get('/api/v1/health')).body.ingest;
        if (health?.accepted_sequence !== outcome.events) findings.find('accepted sequence differs from the valid events sent', `server ${health?.accepted_sequence}, sent ${outcome.events}`);
        extra = { valid_batches: outcome.validBatches, valid_events: outcome.events, mutations_skipped: outcome.skipped, books };
      } else {
        const dialect = name === 'ws-json' ? 'json' : name === 'ws-flatbuffers' ? 'flatbuffers' : 'market-data';
        sent = await fuzzSocket({ dialect, url: server.url, inputs, findings }, count, targetDeadline, progress);
      }
    } catch (err) {
      failure ??= `fuzzer: ${(err as Error).stack ?? String(err)}`;
    }
    const seconds = (Date.now() - t0) / 1000;
    const end = measure();
    start ??= end;
    const heapRatio = end.heap_mb / Math.max(1, start.heap_mb);
    const rssRatio = end.rss_mb / Math.max(1, start.rss_mb);
    const grew = end.heap_mb > start.heap_mb * HEAP_RATIO + HEAP_SLACK_MB || end.rss_mb > start.rss_mb * RSS_RATIO + RSS_SLACK_MB;
    // The server must still answer after all that.
    const alive = await server.get('/api/v1/health').then(
      (r) => r.status === 200,
      () => false,
    );
    if (!alive) failure ??= 'the server stopped answering /api/v1/health';
    await server.server.stop();
    if (failure !== null) crashed ??= `${name}: ${failure}`;
    const result: TargetResult = {
      target: name,
      inputs: sent,
      seconds: Math.round(seconds * 10) / 10,
      inputs_per_s: Math.round(sent / Math.max(seconds, 0.001)),
      server_start_s: Math.round(serverStart * 10) / 10,
      answers: findings.answers,
      findings: findings.findings,
      memory: { start, end, rss_ratio: Math.round(rssRatio * 100) / 100, heap_ratio: Math.round(heapRatio * 100) / 100, grew },
      ...(extra === undefined ? {} : { extra }),
    };
    targets.push(result);
    log(
      `fuzz ${name}: ${sent} inputs in ${result.seconds} s (${result.inputs_per_s}/s), ${findings.count} findings, ` +
        `rss ${start.rss_mb}→${end.rss_mb} MB, heap ${start.heap_mb}→${end.heap_mb} MB${failure === null ? '' : `, FAILED: ${failure}`}`,
    );
    for (const [kind, f] of Object.entries(findings.findings)) log(`  ${kind}: ${f.count} (e.g. ${f.examples[0]})`);
    if (crashed !== null) break;
  }

  const inputs = targets.reduce((n, t) => n + t.inputs, 0);
  const seconds = (Date.now() - started) / 1000;
  const uncoded = targets.reduce((n, t) => n + (t.findings['uncoded error answer']?.count ?? 0) + (t.findings['INTERNAL error answer']?.count ?? 0) + (t.findings['error body is not JSON']?.count ?? 0), 0);
  const memoryGrew = targets.some((t) => t.memory.grew);
  return {
    seed: options.seed,
    inputs,
    seconds: Math.round(seconds * 10) / 10,
    inputs_per_s: Math.round(inputs / Math.max(seconds, 0.001)),
    crashed,
    uncoded_answers: uncoded,
    findings: targets.reduce((n, t) => n + Object.values(t.findings).reduce((m, f) => m + f.count, 0), 0),
    memory_grew: memoryGrew,
    books_equal: booksEqual,
    ok: crashed === null && uncoded === 0 && booksEqual && (!options.checkMemory || !memoryGrew),
    targets,
  };
}
