import type { ChildProcess } from 'node:child_process';
import { loadAverage, machineBusySeconds, processCpuSeconds, round } from '../system';
import { expectMessage, LatencySummary, mergeHistograms, nowMicros, sleepUntil } from './child-processes';
import type { MeasureMessage, WindowCounts } from './client-protocol';

/**
 * One measurement window of the WebSocket scenarios, from the parent's side. The clients are
 * told the window in intended-time µs (after WARMUP_MS, for `seconds`); they record what is due
 * inside it, then wait up to GRACE_MS for every stream to deliver past its end, so late
 * messages count with their whole lateness. Meanwhile the parent reads, at the window's two
 * edges, the server's CPU (/proc), the machine's busy time and whatever `probe` reads (bookcast's
 * health counters), so rates and CPU cover the same seconds as the latencies.
 */

/** After every client is ready: discarded, so connection set-up and JIT warm-up are not measured. */
export const WARMUP_MS = 2000;
/** After the window, the longest a client waits for its streams to deliver past it. */
export const GRACE_MS = 5000;
/** Beyond warm-up, window and grace, how late a client's report may come: a saturated machine runs timers late. */
const REPORT_SLACK_MS = 15_000;

interface Typed {
  type: string;
}

export interface WindowOptions<P> {
  seconds: number;
  /** The server process whose CPU is read. */
  serverPid: number;
  /** Read at the window's start and end (bookcast: its health endpoint). */
  probe?: () => Promise<P>;
  /** Waits until the window's end; by default a sleep (connections-held samples the server's RSS). */
  until?: (endUs: number) => Promise<void>;
}

export interface Window<R, P> {
  reports: R[];
  /** Wall seconds between the readings at the window's edges. */
  seconds: number;
  /** The server's CPU seconds over the window, unrounded. */
  serverCpuSeconds: number | null;
  machineBusyCores: number | null;
  /** The load average at the window's end. */
  loadAverage: number[];
  /** What `probe` read at the window's start and end; null without a probe. */
  probed: [P, P] | null;
}

/**
 * Sends 'measure' to ready clients and gathers their answers of type `answer` ('result', or
 * held-protocol.ts's 'measured').
 */
export async function measureWindow<M extends Typed, T extends M['type'], P = never>(
  clients: readonly ChildProcess[],
  answer: T,
  options: WindowOptions<P>,
): Promise<Window<Extract<M, { type: T }>, P>> {
  const { seconds, serverPid, probe } = options;
  const startUs = nowMicros() + WARMUP_MS * 1000;
  const endUs = startUs + seconds * 1e6;
  const results = clients.map((c) => expectMessage<M, T>(c, answer, WARMUP_MS + seconds * 1000 + GRACE_MS + REPORT_SLACK_MS));
  // A rejection is handled when the results are awaited; do not let it count as unhandled.
  for (const r of results) r.catch(() => undefined);
  for (const c of clients) c.send({ type: 'measure', startUs, endUs, graceMs: GRACE_MS } satisfies MeasureMessage);
  await sleepUntil(startUs);
  const probe0 = probe === undefined ? null : await probe();
  const at0 = nowMicros();
  const cpu0 = processCpuSeconds(serverPid);
  const busy0 = machineBusySeconds();
  await (options.until ?? sleepUntil)(endUs);
  const probe1 = probe === undefined ? null : await probe();
  const at1 = nowMicros();
  const cpu1 = processCpuSeconds(serverPid);
  const busy1 = machineBusySeconds();
  const load = loadAverage();
  const windowSeconds = (at1 - at0) / 1e6;
  return {
    reports: await Promise.all(results),
    seconds: windowSeconds,
    serverCpuSeconds: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0,
    machineBusyCores: busy0 === null || busy1 === null ? null : round((busy1 - busy0) / windowSeconds, 2),
    loadAverage: load,
    probed: probe === undefined ? null : [probe0 as P, probe1 as P],
  };
}

/** What went wrong per stream, beside the latencies, as every WebSocket scenario reports it. */
export interface StreamCounts {
  gaps: number;
  resyncs: number;
  disconnects: number;
  lateStreams: number;
  negativeLatencies: number;
  /** Error frames by code. */
  errors: Record<string, number>;
}

/** The clients' reports of one window, added up; latencies from the union of their histograms. */
export interface ReportSums extends LatencySummary, StreamCounts {
  messages: number;
  bytes: number;
}

export function sumReports(reports: readonly WindowCounts[]): ReportSums {
  const sum = (f: (r: WindowCounts) => number) => reports.reduce((s, r) => s + f(r), 0);
  const errors: Record<string, number> = {};
  for (const r of reports) for (const [code, n] of Object.entries(r.errors)) errors[code] = (errors[code] ?? 0) + n;
  return {
    messages: sum((r) => r.messages),
    bytes: sum((r) => r.bytes),
    ...mergeHistograms(reports.map((r) => r.histogram)),
    gaps: sum((r) => r.gaps),
    resyncs: sum((r) => r.resyncs),
    disconnects: sum((r) => r.disconnects),
    lateStreams: sum((r) => r.lateStreams),
    negativeLatencies: sum((r) => r.negative),
    errors,
  };
}
