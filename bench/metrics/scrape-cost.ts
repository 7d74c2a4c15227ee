import { runStandalone } from '../standalone';
import { round } from '../system';
import { withLatencyClients } from '../gateway/bookcast-session';
import type { ClientMessage, ConnectionPlan } from '../gateway/client-protocol';
import { acceptedEvents, Health, ServerProcess, symbolName } from '../gateway/server-process';
import { measureWindow, sumReports } from '../gateway/window';
import { scrapeTimes, ScrapeTimes } from './scrape-times';

/**
 * ScrapeCost: what metrics cost the feed. The same open-loop workload as
 * gateway/end-to-end-latency (100 generated symbols, simulator at RATE arrivals/s, 100
 * FlatBuffers connections on L2 depth 10 of 10 symbols each, 2 client processes), measured twice
 * in one run on two fresh servers, alternating: without any scrape, and with GET /metrics every
 * second during the whole window (what a Prometheus server does, at a short interval). Per
 * point: events applied per second (the workers' S_ACCEPTED over the window), messages published
 * per second, end-to-end latency p50/p99/p99.9/max from the event's intended time to the client
 * holding the decoded update, and the scrapes' own times. `--full` runs each point twice
 * (A B B A), so a drift of the machine's load shows as a difference between repeats.
 */

const SYMBOLS = 100;
const CONNECTIONS = 100;
const SYMBOLS_PER_CONNECTION = 10;
const CLIENT_PROCESSES = 2;
const RATE = 10_000;
const WORKERS = 2;
const SCRAPE_EVERY_MS = 1000;
/** The health probe at the window's edges may wait this long: the shared machine is often loaded far past its 2 cores. */
const PROBE_TIMEOUT_MS = 30_000;

function plans(): ConnectionPlan[][] {
  const perProcess: ConnectionPlan[][] = Array.from({ length: CLIENT_PROCESSES }, () => []);
  for (let i = 0; i < CONNECTIONS; i++) {
    const first = (i * SYMBOLS_PER_CONNECTION) % SYMBOLS;
    perProcess[i % CLIENT_PROCESSES].push({ symbols: Array.from({ length: SYMBOLS_PER_CONNECTION }, (_, k) => symbolName((first + k) % SYMBOLS)) });
  }
  return perProcess;
}

async function point(scrape: boolean, seconds: number): Promise<object> {
  return withLatencyClients({ symbols: SYMBOLS, rate: RATE, workers: WORKERS }, { processes: plans(), depth: 10, setupTimeoutMs: 90_000 }, async (server: ServerProcess, clients) => {
    const http = `http://${server.host}:${server.port}`;
    const scraping = scrape ? scrapeTimes(http, SCRAPE_EVERY_MS) : null;
    try {
      const window = await measureWindow<ClientMessage, 'result', Health>(clients, 'result', { seconds, serverPid: server.pid, probe: () => server.health(PROBE_TIMEOUT_MS) });
      const [h0, h1] = window.probed!;
      const { messages: _m, bytes: _b, count, ...latency } = sumReports(window.reports);
      const times: ScrapeTimes | null = scraping === null ? null : await scraping.stop();
      return {
        scrapeEverySecond: scrape,
        eventsAppliedPerSecond: Math.round((acceptedEvents(h1) - acceptedEvents(h0)) / window.seconds),
        publishedPerSecond: Math.round((h1.published - h0.published) / window.seconds),
        updates: count,
        ...latency,
        scrapes: times,
        serverCpuSeconds: window.serverCpuSeconds === null ? null : round(window.serverCpuSeconds, 2),
        loadAverage: window.loadAverage,
      };
    } finally {
      await scraping?.stop();
    }
  });
}

export async function run(opts: { seconds: number; full: boolean }): Promise<object> {
  const order = opts.full ? [false, true, true, false] : [false, true];
  const results: object[] = [];
  for (const scrape of order) results.push(await point(scrape, opts.seconds));
  return {
    name: 'ScrapeCost',
    unit: 'µs from intended event time to client receipt; scrape times in ms',
    symbols: SYMBOLS,
    arrivalsPerSecond: RATE,
    workers: WORKERS,
    connections: CONNECTIONS,
    results,
  };
}

if (require.main === module) runStandalone(run, 5);
