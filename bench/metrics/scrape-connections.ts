import type { ChildProcess } from 'node:child_process';
import { runStandalone } from '../standalone';
import { loadAverage } from '../system';
import { withBookcast } from '../gateway/bookcast-session';
import { ClientProcess, openStep } from '../gateway/connections-held';
import { symbolName } from '../gateway/server-process';
import { scrapeSeries } from './scrape-times';

/**
 * ScrapeAtConnections: how long GET /metrics takes with 0 and with 10,000 open WebSocket
 * connections (each subscribed to L2 of one of 10 symbols, FlatBuffers, a 1k arrivals/s feed
 * flowing), in one run on one server. Connections are held by held-client.ts processes (at most
 * 4,000 each, each from its own source address, so no process nears 20,000 open files). The
 * scrape walks every session twice (connections by dialect, the deepest send buffer), so this
 * is where its cost grows with connections. `seconds` is unused; SCRAPES per step.
 */

const TARGET = 10_000;
const SYMBOLS = 10;
const SCRAPES = 30;

export async function run(_opts: { seconds: number; full: boolean }): Promise<object> {
  return withBookcast({ symbols: SYMBOLS, rate: 1000, workers: 1 }, async (server, children: ChildProcess[]) => {
    const http = `http://${server.host}:${server.port}`;
    const symbols = Array.from({ length: SYMBOLS }, (_, i) => symbolName(i));
    const idle = await scrapeSeries(http, SCRAPES);
    const clients: ClientProcess[] = [];
    const { opened, seconds } = await openStep(clients, children, TARGET, server.url, symbols, 0);
    const open = opened.reduce((s, o) => s + o.open, 0);
    const held = await scrapeSeries(http, SCRAPES);
    return {
      name: 'ScrapeAtConnections',
      unit: 'ms per GET /metrics, whole body received',
      symbols: SYMBOLS,
      results: [
        { connections: 0, ...idle },
        { connections: open, failed: opened.reduce((s, o) => s + o.failed, 0), openSeconds: Math.round(seconds), ...held },
      ],
      p50Ratio: Math.round((held.p50Ms / idle.p50Ms) * 100) / 100,
      loadAverage: loadAverage(),
    };
  });
}

if (require.main === module) runStandalone(run, 1);
