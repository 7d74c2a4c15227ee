import { ChildProcess, fork } from 'node:child_process';
import * as hdr from 'hdr-histogram-js';
import { delay, within } from './server-process';

/**
 * What the gateway scenarios do with the processes they fork (load clients, peer servers): start
 * them, wait for a typed message with a deadline, stop them for sure, and merge the latency
 * histograms their clients send back. Every wait is bounded, so a stuck child costs a timeout,
 * not the run.
 */

/**
 * The most connections one client process holds. Open files are limited to 20,000 per process
 * here (`ulimit -Hn`), and a Node process receiving thousands of streams runs out of CPU long
 * before that; more connections take more processes.
 */
export const MAX_CONNECTIONS_PER_PROCESS = 4000;

/**
 * The source address of client process `p`: 127.0.0.2, .3, … Each address has its own ~28k
 * ephemeral ports towards the server, so the clients together never run out of them.
 */
export function sourceAddress(p: number): string {
  return `127.0.0.${2 + p}`;
}

/** Wall-clock µs, the clock bookcast stamps events with (src/util/clock.ts) and clients read. */
export function nowMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}

export async function sleepUntil(us: number): Promise<void> {
  const ms = (us - nowMicros()) / 1000;
  if (ms > 0) await delay(ms);
}

interface Typed {
  type: string;
}

/**
 * Resolves with the child's next message of `type`; rejects on a message of type 'failed'
 * (whose `message` says why), on the child's exit, or after `timeoutMs`.
 */
export function expectMessage<M extends Typed, T extends M['type']>(child: ChildProcess, type: T, timeoutMs: number): Promise<Extract<M, { type: T }>> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: M) => {
      if (message.type === type) {
        cleanup();
        resolve(message as Extract<M, { type: T }>);
      } else if (message.type === 'failed') {
        cleanup();
        reject(new Error(`process ${child.pid}: ${(message as unknown as { message: string }).message}`));
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`process ${child.pid} exited (code ${code}, signal ${signal}) before '${type}'`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`process ${child.pid}: no '${type}' within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/**
 * Forks one process of `script` per start message, sends each its own, and resolves once every
 * one has answered 'ready' (within its start's setupTimeoutMs and 5 s more). Each child goes into
 * `into` as soon as it is forked, so the caller can stop them all whatever happens.
 */
export async function startClients(script: string, starts: readonly (Typed & { setupTimeoutMs: number })[], into: ChildProcess[]): Promise<void> {
  const ready = starts.map((start) => {
    const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    into.push(child);
    child.send(start);
    return expectMessage<Typed, 'ready'>(child, 'ready', start.setupTimeoutMs + 5000);
  });
  await Promise.all(ready);
}

/** SIGTERM, then SIGKILL after 3 s, for every child still running. Never throws. */
export async function stopChildren(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      if (!(await within(exited, 3000))) child.kill('SIGKILL');
      await within(exited, 3000);
    }),
  );
}

/** µs, 1 µs … 60 s, 3 significant digits: the same shape in every client, so they merge. */
export const HIGHEST_TRACKABLE_US = 60_000_000;

export function newHistogram(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_TRACKABLE_US, numberOfSignificantValueDigits: 3 });
}

export interface LatencySummary {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
  mean: number | null;
}

/** Merges the clients' compressed histograms and reads the percentiles off the union (null when empty). */
export function mergeHistograms(encoded: readonly string[]): LatencySummary {
  const merged = newHistogram();
  for (const text of encoded) {
    const h = hdr.decodeFromCompressedBase64(text, 32);
    merged.add(h);
    h.destroy();
  }
  const empty = merged.totalCount === 0;
  const summary: LatencySummary = {
    count: merged.totalCount,
    p50: empty ? null : merged.getValueAtPercentile(50),
    p90: empty ? null : merged.getValueAtPercentile(90),
    p99: empty ? null : merged.getValueAtPercentile(99),
    p999: empty ? null : merged.getValueAtPercentile(99.9),
    max: empty ? null : merged.maxValue,
    mean: empty ? null : Math.round(merged.mean),
  };
  merged.destroy();
  return summary;
}

/** a / b to three significant digits, or null when either is missing or b is zero. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (typeof a !== 'number' || typeof b !== 'number' || b === 0) return null;
  return Number((a / b).toPrecision(3));
}
