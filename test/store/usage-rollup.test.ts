import t from 'tap';
import { rollUpUsage } from '../../src/store/usage-rollup';
import type { UsageRecord } from '../../src/store/store';

const MINUTE = 60_000_000;
const DAY = 86_400_000_000;

/** Sums keyed by joined strings, row by row: the plain way, to hold the roll-ups against. */
function reference(rows: readonly UsageRecord[]) {
  const groups = new Map<string, UsageRecord[]>();
  const add = (key: string, r: UsageRecord) => groups.set(key, [...(groups.get(key) ?? []), r]);
  for (const r of rows) {
    const minute = Math.floor(r.time / MINUTE) * MINUTE;
    add(`m|${minute}|${r.endpoint}|${r.method}|${r.status}`, r);
    add(`d|${Math.floor(r.time / DAY) * DAY}|${r.subject}`, r);
    add(`s|${r.subject}|${minute}|${r.endpoint}|${r.method}|${r.status}`, r);
  }
  const sum = (g: UsageRecord[], f: (r: UsageRecord) => number) => g.reduce((s, r) => s + f(r), 0);
  const out: Record<string, object> = {};
  for (const [key, g] of groups) {
    const totals = { requests: g.length, totalMs: sum(g, (r) => Math.fround(r.responseTimeMs)), requestBytes: sum(g, (r) => r.requestBytes), responseBytes: sum(g, (r) => r.responseBytes) };
    if (key.startsWith('m|')) out[key] = { ...totals, maxMs: Math.max(...g.map((r) => Math.fround(r.responseTimeMs))) };
    else if (key.startsWith('s|')) out[key] = { ...totals, last: Math.max(...g.map((r) => r.time)) };
    else {
      const clients = g.map((r) => r.clientId).filter((c): c is string => c !== null).sort();
      out[key] = { ...totals, errors: g.filter((r) => r.status >= 400).length, rateLimited: g.filter((r) => r.status === 429).length, clientId: clients.length === 0 ? null : clients[clients.length - 1] };
    }
  }
  return out;
}

function keyed(rollups: ReturnType<typeof rollUpUsage>) {
  const out: Record<string, object> = {};
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  for (const m of rollups.minutes) {
    out[`m|${m.minute}|${m.endpoint}|${m.method}|${m.status}`] = { requests: m.requests, totalMs: round(m.totalMs), requestBytes: m.requestBytes, responseBytes: m.responseBytes, maxMs: m.maxMs };
  }
  for (const d of rollups.days) {
    out[`d|${d.day}|${d.subject}`] = { requests: d.requests, totalMs: round(d.totalMs), requestBytes: d.requestBytes, responseBytes: d.responseBytes, errors: d.errors, rateLimited: d.rateLimited, clientId: d.clientId };
  }
  for (const s of rollups.subjects) {
    out[`s|${s.subject}|${s.minute}|${s.endpoint}|${s.method}|${s.status}`] = { requests: s.requests, totalMs: round(s.totalMs), requestBytes: s.requestBytes, responseBytes: s.responseBytes, last: s.last };
  }
  return out;
}

function roundTotals(out: Record<string, object>): Record<string, object> {
  for (const v of Object.values(out) as { totalMs: number }[]) v.totalMs = Math.round(v.totalMs * 1e6) / 1e6;
  return out;
}

t.test('roll-ups equal plain sums: runs of one key, interleaved keys, minutes and a UTC day crossed, times out of order', (t) => {
  let seed = 7;
  const random = (n: number) => ((seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) >>> 8) % n;
  const t0 = Date.UTC(2026, 11, 5) * 1000 - 2 * MINUTE; // two minutes before a UTC midnight
  const subjects = ['client-a', 'client-b', 'ip:10.0.0.1', 'ip:10.0.0.2'];
  const endpoints = ['/api/v1/market/:symbol/orderbook', '/api/v1/market-data/:symbol/latest', '/ws'];
  const rows: UsageRecord[] = [];
  for (let i = 0; i < 4000; i++) {
    // Runs of one key (a client repeating a request) between stretches of random keys.
    const run = Math.floor(i / 50) % 2 === 0;
    const s = run ? 0 : random(subjects.length);
    const status = run ? 200 : [200, 200, 404, 429, 499][random(5)];
    const endpoint = run ? endpoints[0] : endpoints[random(endpoints.length)];
    rows.push({
      time: t0 + i * 60_000 + (run ? 0 : random(90_000) * 1000) - 45_000_000,
      responseTimeMs: random(10_000) / 1000,
      requestBytes: random(500),
      responseBytes: random(100_000) + (i % 97 === 0 ? 2 ** 40 : 0),
      status,
      subject: subjects[s],
      clientId: subjects[s].startsWith('client-') ? subjects[s] : null,
      keyId: null,
      endpoint,
      method: endpoint === '/ws' ? 'WS' : random(4) === 0 ? 'POST' : 'GET',
      userAgent: 'x',
      ip: '10.0.0.1',
    });
  }
  const rollups = rollUpUsage(rows);
  t.same(keyed(rollups), roundTotals(reference(rows)));
  t.ok(rollups.days.length >= subjects.length + 1, 'the rows span two UTC days');
  t.same(rollUpUsage([]), { minutes: [], days: [], subjects: [] }, 'no rows: no roll-ups');
  t.end();
});
