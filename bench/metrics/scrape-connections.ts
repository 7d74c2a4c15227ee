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
 * held-client's timeout (the step to 3,000 failed twice; at 50 arrivals/s it failed at load 30).
 * At RATE each connection gets about one update a second, besides its heartbeat.
 */

const STEPS = Array.from({ length: 10 }, (_, i) => (i + 1) * 1_000);
const SYMBOLS = 10;
const SCRAPES = 20;
const RATE = 10;
/** Open timeout per connection a client process opens: a loaded machine (load 30 on 2 cores) opens a few dozen a second. */
const OPEN_MS_PER_CONNECTION = 50;
const ATTEMPTS = 5;
const HEALTH_TIMEOUT_MS = 30_000;

export async function run(_opts: { seconds: number; full: boolean }): Promise<object> {
  return withBookcast({ symbols: SYMBOLS, rate: RATE, workers: 1 }, async (server, children: ChildProcess[]) => {
    const http = `http://${server.host}:${server.port}`;
    const symbols = Array.from({ length: SYMBOLS }, (_, i) => symbolName(i));
    const idle = await scrapeSeries(http, SCRAPES);
    const results: object[] = [{ connections: 0, ...idle, loadAverage: loadAverage() }];
    const clients: ClientProcess[] = [];
    let held = idle;
    let next = 0;
    // In steps, so each batch of handshakes can finish within held-client's open timeout; a step
    // asks again for the connections whose handshake failed or timed out (a loaded machine opens
    // a few dozen a second), up to ATTEMPTS times, and is measured with what is held.
    for (const target of STEPS) {
      let open = 0;
      let attempts = 0;
      let openSeconds = 0;
      let lastError: string | null = null;
      while (open < target && attempts < ATTEMPTS) {
        attempts++;
        const before = clients.reduce((s, c) => s + c.connections, 0);
        let step: Awaited<ReturnType<typeof openStep>>;
        try {
          step = await openStep(clients, children, target, server.url, symbols, next, OPEN_MS_PER_CONNECTION);
        } catch (err) {
          // A client process that did not report in time (its event loop starved on a loaded machine): ask again.
          lastError = (err as Error).message.split('\n')[0];
          continue;
        }
        next += target - before;
        openSeconds += step.seconds;
        open = clients.reduce((s, c) => s + c.connections, 0);
        lastError = step.opened.map((o) => o.firstError).find((e) => e !== null) ?? lastError;
      }
      held = await scrapeSeries(http, SCRAPES);
      // The server's own count: handshakes a client gave up on may still have completed. Health
      // answers slowly at load 30 with thousands of connections: a generous deadline, and null past it.
      const serverConnections = await server.health(HEALTH_TIMEOUT_MS).then((h) => h.connections, () => null);
      const result = { target, connections: open, serverConnections, attempts, openSeconds: Math.round(openSeconds), ...(open < target ? { lastError } : {}), ...held, loadAverage: loadAverage() };
      results.push(result);
      // Step by step on stderr, so a run cut short still leaves what it measured.
      console.error(JSON.stringify(result));
      // Short of the step's target even so, by the server's count too: the machine cannot open more in time.
      if ((serverConnections ?? open) < target) break;
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
