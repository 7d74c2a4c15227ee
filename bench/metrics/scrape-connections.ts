import type { ChildProcess } from 'node:child_process';
import { runStandalone } from '../standalone';
import { loadAverage } from '../system';
import { withBookcast } from '../gateway/bookcast-session';
import { ClientProcess, openStep } from '../gateway/connections-held';
import { symbolName } from '../gateway/server-process';
import { scrapeSeries } from './scrape-times';

/**
 * ScrapeAtConnections: how long GET /metrics takes with 0 and up to 10,000 open WebSocket (steps of 1,000)
 * connections (each subscribed to L2 of one of 10 symbols, FlatBuffers, a RATE arrivals/s feed
 * flowing), in one run on one server. Connections are held by held-client.ts processes (at most
 * 4,000 each, each from its own source address, so no process nears the 20,000 open files one
 * process may have). The scrape walks every session twice (connections by dialect, the deepest
 * send buffer), so this is where its cost grows with connections. `seconds` is unused; SCRAPES
 * per step.
 *
 * The feed is slow on purpose: what is measured is the walk over connections, not fan-out. At
 * 1,000 arrivals/s each connection got ~100 messages/s, and one client process decoding those for
 * 2,000 connections on the shared 2 cores could no longer finish the next 1,000 handshakes within
 * held-client's timeout (the step to 3,000 failed twice). At RATE each connection gets a few
 * messages a second.
 */

const STEPS = Array.from({ length: 10 }, (_, i) => (i + 1) * 1_000);
const SYMBOLS = 10;
const SCRAPES = 20;
const RATE = 50;

export async function run(_opts: { seconds: number; full: boolean }): Promise<object> {
  return withBookcast({ symbols: SYMBOLS, rate: RATE, workers: 1 }, async (server, children: ChildProcess[]) => {
    const http = `http://${server.host}:${server.port}`;
    const symbols = Array.from({ length: SYMBOLS }, (_, i) => symbolName(i));
    const idle = await scrapeSeries(http, SCRAPES);
    const results: object[] = [{ connections: 0, ...idle, loadAverage: loadAverage() }];
    const clients: ClientProcess[] = [];
    let held = idle;
    let first = 0;
    let failed = 0;
    // In steps, so each batch of handshakes finishes within held-client's open timeout on a loaded machine.
    for (const target of STEPS) {
      let step: Awaited<ReturnType<typeof openStep>>;
      try {
        step = await openStep(clients, children, target, server.url, symbols, first);
      } catch (err) {
        // A machine too loaded to finish the handshakes in time: keep the steps measured so far.
        results.push({ connections: target, error: (err as Error).message.split('\n')[0], loadAverage: loadAverage() });
        break;
      }
      const { opened, seconds } = step;
      first = target;
      held = await scrapeSeries(http, SCRAPES);
      failed += opened.reduce((s, o) => s + o.failed, 0);
      results.push({ connections: target - failed, failed, openSeconds: Math.round(seconds), ...held, loadAverage: loadAverage() });
    }
    return {
      name: 'ScrapeAtConnections',
      unit: 'ms per GET /metrics, whole body received',
      symbols: SYMBOLS,
      arrivalsPerSecond: RATE,
      results,
      p50Ratio: Math.round((held.p50Ms / idle.p50Ms) * 100) / 100,
    };
  });
}

if (require.main === module) runStandalone(run, 1);
