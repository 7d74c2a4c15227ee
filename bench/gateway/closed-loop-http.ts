import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type * as hdr from 'hdr-histogram-js';
import { LatencySummary, newHistogram } from './child-processes';

/**
 * Closed-loop ceilings from this process, for when wrk is not installed (and for what wrk cannot
 * do: TLS handshakes alone): `connections` loops each start their next operation when the last
 * one ended, for `seconds`. The figure is the most the target completes per second against this
 * client (one Node process: the client is part of the ceiling, so compare targets only within one
 * run, as ratios), and latencies are not open-loop ones (coordinated omission), kept only to show
 * the spread.
 */

export interface CeilingResult extends LatencySummary {
  perSecond: number;
  bytesPerSecond: number;
  errors: number;
}

function summary(h: hdr.Histogram, done: number, bytes: number, errors: number, seconds: number): CeilingResult {
  const empty = h.totalCount === 0;
  const result: CeilingResult = {
    perSecond: Math.round(done / seconds),
    bytesPerSecond: Math.round(bytes / seconds),
    errors,
    count: h.totalCount,
    p50: empty ? null : h.getValueAtPercentile(50),
    p90: empty ? null : h.getValueAtPercentile(90),
    p99: empty ? null : h.getValueAtPercentile(99),
    p999: empty ? null : h.getValueAtPercentile(99.9),
    max: empty ? null : h.maxValue,
    mean: empty ? null : Math.round(h.mean),
  };
  h.destroy();
  return result;
}

async function loops(connections: number, seconds: number, once: () => Promise<number>): Promise<CeilingResult> {
  const h = newHistogram();
  const until = performance.now() + seconds * 1000;
  let done = 0;
  let bytes = 0;
  let errors = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < until) {
      const start = performance.now();
      try {
        bytes += await once();
        done++;
        h.recordValue(Math.max(1, Math.round((performance.now() - start) * 1000)));
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, loop));
  return summary(h, done, bytes, errors, seconds);
}

/** Keep-alive GETs of `url` over `connections` sockets (HTTP or HTTPS); answers other than 200 count as errors. */
export function requestCeiling(url: string, headers: Record<string, string>, connections: number, seconds: number, ca?: string): Promise<CeilingResult> {
  const secure = url.startsWith('https:');
  const agent = secure ? new https.Agent({ keepAlive: true, maxSockets: connections, ca }) : new http.Agent({ keepAlive: true, maxSockets: connections });
  const get = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const req = (secure ? https : http).get(url, { agent, headers }, (res) => {
        let n = 0;
        res.on('data', (chunk: Buffer) => (n += chunk.length));
        res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`answered ${res.statusCode}`))));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  return loops(connections, seconds, get).finally(() => agent.destroy());
}

/** New connections, each closed once established: TCP connects, or full TLS handshakes (`ca` given). */
export function connectCeiling(host: string, port: number, connections: number, seconds: number, ca?: string): Promise<CeilingResult> {
  const connect = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const socket =
        ca === undefined
          ? net.connect({ host, port }, () => {
              socket.destroy();
              resolve(0);
            })
          : tls.connect({ host, port, ca, servername: 'localhost', minVersion: 'TLSv1.3' }, () => {
              socket.destroy();
              resolve(0);
            });
      socket.on('error', reject);
    });
  return loops(connections, seconds, connect);
}
