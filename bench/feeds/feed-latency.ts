import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config';
import { startServer } from '../../src/app/server';
import { KrakenVenue } from '../../test/helpers/kraken-venue';
import { runStandalone } from '../standalone';
import { loadAverage } from '../system';

/**
 * FeedLatency: what bookcast adds between an exchange and its own clients. A local Kraken (the
 * test venue, v2 protocol, loopback) sends one-level book updates on an open-loop schedule; a
 * bookcast server on `--source feed:kraken` normalizes them (adapter, journal, book worker,
 * distribution) and a `ws` client subscribed to L2 depth 10 receives the l2_update. Latency is
 * from each update's intended send time to the bookcast client holding it, matched by the
 * quantity, which encodes the update's number. Baseline in the same run, same schedule: a `ws`
 * client connected to the venue directly (the socket hop alone). The difference is what bookcast
 * adds from frame received to client delivery; both are HDR histograms in µs.
 */

const RATE = 1000;

interface Leg {
  histogram: hdr.Histogram;
  due: Map<number, number>;
}

function summary(h: hdr.Histogram) {
  return { count: h.totalCount, p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), p999: h.getValueAtPercentile(99.9), max: h.maxValue };
}

const newHistogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60e6, numberOfSignificantValueDigits: 3 });

/** Update n sets the bid at 66999.9 - (n % 5) × 0.1 to n + 1 satoshi-like units: unique, readable back. */
function qtyOf(n: number): string {
  return ((n + 1) / 1e8).toFixed(8);
}

async function measureLeg(venue: KrakenVenue, seconds: number, receive: (onQty: (qty: string) => void) => Promise<() => void>): Promise<{ histogram: hdr.Histogram; lost: number }> {
  const leg: Leg = { histogram: newHistogram(), due: new Map() };
  const stop = await receive((qty) => {
    const n = Math.round(Number(qty) * 1e8) - 1;
    const due = leg.due.get(n);
    if (due === undefined) return;
    leg.due.delete(n);
    leg.histogram.recordValue(Math.max(1, Math.round((performance.timeOrigin + performance.now()) * 1000 - due)));
  });
  const startUs = (performance.timeOrigin + performance.now()) * 1000 + 200_000;
  const total = Math.round(seconds * RATE);
  let n = base;
  const end = base + total;
  // Open loop: every update goes at its scheduled time, late ones at once (and are measured from when they were due).
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = (performance.timeOrigin + performance.now()) * 1000;
      while (n < end && startUs + ((n - base) * 1e6) / RATE <= now) {
        leg.due.set(n, startUs + ((n - base) * 1e6) / RATE);
        venue.update('BTC/USD', { bids: [[(66999.9 - (n % 5) * 0.1).toFixed(1), qtyOf(n)]] });
        n++;
      }
      // Timers, not a spin: the venue, bookcast's front thread and both clients share this process.
      if (n < end) setTimeout(tick, 1);
      else resolve();
    };
    tick();
  });
  const deadline = Date.now() + 10_000;
  while (leg.due.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  base = end;
  stop();
  return { histogram: leg.histogram, lost: leg.due.size };
}

let base = 0;

export async function run(opts: { seconds: number }): Promise<object> {
  const loadBefore = loadAverage();
  const venue = await KrakenVenue.start([{ symbol: 'BTC/USD', base: 'BTC', quote: 'USD', pricePrecision: 1, qtyPrecision: 8, priceIncrement: '0.1', qtyIncrement: '0.00000001', qtyMin: '0.00000001' }]);
  for (let i = 1; i <= 20; i++) venue.update('BTC/USD', { bids: [[(67000 - i * 0.1).toFixed(1), '1']], asks: [[(67000 + i * 0.1).toFixed(1), '1']] }, { send: false });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-bench-feed-'));
  const server = await startServer(loadConfig(['--port', '0', '--data-dir', dataDir, '--workers', '1', '--source', 'feed:kraken', '--feed-url', venue.url, '--feed-symbols', 'BTC/USD', '--feed-depth', '10'], {}));
  try {
    const directLeg = (seconds: number) => measureLeg(venue, seconds, async (onQty) => {
      const ws = new WebSocket(venue.url);
      await new Promise((resolve) => ws.once('open', resolve));
      ws.on('message', (data) => {
        for (const m of data.toString().matchAll(/"qty":([\d.]+)/g)) onQty(m[1]);
      });
      return () => ws.terminate();
    });
    const bookcastLeg = (seconds: number) => measureLeg(venue, seconds, async (onQty) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
      await new Promise((resolve) => ws.once('open', resolve));
      ws.send(JSON.stringify({ type: 'subscribe', channels: ['l2'], symbols: ['BTC/USD'], depth: 10 }));
      await new Promise<void>((resolve) => ws.on('message', function first(data) {
        if (data.toString().includes('l2_snapshot')) {
          ws.off('message', first);
          resolve();
        }
      }));
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString());
        if (m.type !== 'l2_update') return;
        for (const [, qty] of m.data.bids) onQty(qty);
      });
      return () => ws.terminate();
    });
    // Warm-up of both paths (JIT, the server's first snapshot), not recorded.
    await directLeg(1);
    await bookcastLeg(1);
    // The two paths alternate in one-second rounds, so a burst of load from other jobs on this
    // shared machine lands on both rather than on whichever ran at the time.
    const rounds = Math.max(1, Math.round(opts.seconds / 2));
    const direct = newHistogram();
    const throughBookcast = newHistogram();
    let lost = [0, 0];
    for (let r = 0; r < rounds; r++) {
      const a = await directLeg(opts.seconds / 2 / rounds);
      const b = await bookcastLeg(opts.seconds / 2 / rounds);
      direct.add(a.histogram);
      throughBookcast.add(b.histogram);
      lost = [lost[0] + a.lost, lost[1] + b.lost];
    }
    return {
      name: 'FeedLatency',
      rate: RATE,
      unit: 'µs from intended send to the client holding the update',
      loadAverage: { before: loadBefore, after: loadAverage() },
      directFromVenue: { ...summary(direct), lost: lost[0] },
      throughBookcast: { ...summary(throughBookcast), lost: lost[1] },
      addedP50: throughBookcast.getValueAtPercentile(50) - direct.getValueAtPercentile(50),
      addedP99: throughBookcast.getValueAtPercentile(99) - direct.getValueAtPercentile(99),
    };
  } finally {
    await server.stop();
    await venue.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) runStandalone(run, 10);
