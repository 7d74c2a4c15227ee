import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * wrk (Debian's `wrk`, C, epoll) as a closed-loop ceiling: each connection sends its next request
 * only when the previous answer arrived, so its figure is the most a target answers per second,
 * and its latencies are not comparable with an open-loop run (coordinated omission). Run with
 * one thread, so the server keeps the other core of a 2-core machine.
 */

const WRK = '/usr/bin/wrk';

export interface WrkResult {
  requestsPerSecond: number;
  requests: number;
  /** wrk's own percentiles, µs (closed loop: not comparable with the open-loop ones). */
  p50: number | null;
  p99: number | null;
  non2xx: number;
  socketErrors: number;
}

export function wrkAvailable(): boolean {
  return existsSync(WRK);
}

const UNIT_US: Record<string, number> = { us: 1, ms: 1000, s: 1e6 };

function micros(text: string | undefined): number | null {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text ?? '');
  return m === null ? null : Math.round(Number(m[1]) * UNIT_US[m[2]]);
}

export function parseWrk(output: string): WrkResult {
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(output);
  if (rate === null) throw Object.assign(new Error(`wrk printed no Requests/sec:\n${output}`), { code: 'BENCH_WRK_OUTPUT' });
  const requests = /(\d+) requests in/.exec(output);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  return {
    requestsPerSecond: Math.round(Number(rate[1])),
    requests: requests === null ? 0 : Number(requests[1]),
    p50: micros(/^\s+50%\s+(\S+)/m.exec(output)?.[1]),
    p99: micros(/^\s+99%\s+(\S+)/m.exec(output)?.[1]),
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
    socketErrors: errors === null ? 0 : errors.slice(1).reduce((sum, n) => sum + Number(n), 0),
  };
}

/** Runs wrk for `seconds` against `url` (with `headers`, `Name: value` each); it is killed if it overruns by 10 s. */
export function runWrk(url: string, seconds: number, connections: number, headers: readonly string[] = []): Promise<WrkResult> {
  const args = ['-t1', `-c${connections}`, `-d${Math.max(1, Math.round(seconds))}s`, '--latency', ...headers.flatMap((h) => ['-H', h]), url];
  const child = spawn(WRK, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 10) * 1000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) reject(Object.assign(new Error(`wrk exited (code ${code}, signal ${signal}):\n${output}`), { code: 'BENCH_WRK_FAILED' }));
      else {
        try {
          resolve(parseWrk(output));
        } catch (err) {
          reject(err);
        }
      }
    });
  });
}
