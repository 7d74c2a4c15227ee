import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import { findLobsterSamples, lobsterDataDir } from '../../src/source/lobster-files';
import { startTestServer, waitFor } from '../helpers/test-server';

const dir = lobsterDataDir();
const samples = existsSync(dir) ? findLobsterSamples(dir) : [];
if (samples.length === 0 && process.env.CI === 'true') t.fail(`LOBSTER samples missing at ${dir} (required with CI=true)`);

const dollars = (cents: number) => (cents / 100).toFixed(2);

/** Minute candles recomputed straight from the message file (executions at whole cents). */
function minuteCandles(file: string): Map<number, { open: number; high: number; low: number; close: number; volume: number; trades: number }> {
  const candles = new Map<number, { open: number; high: number; low: number; close: number; volume: number; trades: number }>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [time, type, , size, price] = line.split(',');
    if ((type !== '4' && type !== '5' && type !== '6') || Number(price) % 100 !== 0) continue;
    const minute = Math.floor(Number(time.split('.')[0]) / 60) * 60;
    const cents = Number(price) / 100;
    const c = candles.get(minute);
    if (c === undefined) candles.set(minute, { open: cents, high: cents, low: cents, close: cents, volume: Number(size), trades: 1 });
    else {
      c.high = Math.max(c.high, cents);
      c.low = Math.min(c.low, cents);
      c.close = cents;
      c.volume += Number(size);
      c.trades++;
    }
  }
  return candles;
}

t.test(
  'a replayed day is stored: history pages, CSV, candles and trades beyond memory',
  { skip: samples.length ? false : `LOBSTER samples not found at ${dir}; set BOOKCAST_LOBSTER_DIR` },
  async (t) => {
    const file = samples.find((f) => f.includes('GOOG') && f.endsWith('_1.csv'))!;
    const expected = minuteCandles(file);
    const srv = await startTestServer(['--source', `lobster:${file}`, '--speed', '0', '--replay-time', 'original', '--workers', '1', '--batch-ms', '20']);
    t.teardown(() => srv.server.stop());
    await waitFor('the replay to finish', async () => (await srv.get('/api/v1/health')).body.source.done === true);
    const day = 'start_time=2012-06-21T00:00:00Z&end_time=2012-06-22T00:00:00Z';
    // A minute's candle closes when the replay's clock moves past it; the day's last minute stays
    // open (the recording's time stops there), so every minute but the last is stored.
    const closed = expected.size - 1;
    await waitFor('every closed minute candle stored', async () => (await srv.get(`/api/v1/market-data/GOOG/history?${day}&limit=1000`)).body.data?.length === closed);
    const page = await srv.get(`/api/v1/market-data/GOOG/history?${day}&interval=1m&limit=1000`);
    t.equal(page.status, 200);
    t.match(page.body, { symbol: 'GOOG', interval: '1m', time_range: { start: '2012-06-21T00:00:00.000000Z' }, pagination: { limit: 1000, offset: 0, has_more: false }, metadata: { currency: 'USD' } });
    t.equal(page.body.data.length, closed, 'one stored candle per closed minute that traded');
    let mismatches = 0;
    for (const row of page.body.data) {
      const minute = (Date.parse(row.timestamp) - Date.parse('2012-06-21T00:00:00Z')) / 1000;
      const e = expected.get(minute);
      const same = e !== undefined && row.open === dollars(e.open) && row.high === dollars(e.high) && row.low === dollars(e.low) &&
        row.close === dollars(e.close) && row.volume === String(e.volume) && row.trades >= e.trades;
      if (!same && mismatches++ < 3) t.fail(`candle ${row.timestamp}: ${JSON.stringify(row)} vs ${JSON.stringify(e)}`);
    }
    t.equal(mismatches, 0, 'every stored candle equals the recomputation');

    const paged = await srv.get(`/api/v1/market-data/GOOG/history?${day}&limit=100&offset=100&fields=close,volume`);
    t.equal(paged.body.data.length, 100);
    t.equal(paged.body.pagination.has_more, true);
    t.same(Object.keys(paged.body.data[0]), ['timestamp', 'close', 'volume']);
    t.equal(paged.body.data[0].timestamp, page.body.data[100].timestamp, 'offset pages through in order');

    const csv = await fetch(`${srv.http}/api/v1/market-data/GOOG/history?${day}&format=csv&fields=open,close&limit=5`);
    t.equal(csv.headers.get('content-type'), 'text/csv');
    const lines = (await csv.text()).trim().split('\n');
    t.equal(lines[0], 'timestamp,open,close');
    t.equal(lines.length, 6);

    const candles = await srv.get('/api/v1/market/GOOG/candles?interval=1m&start=2012-06-21T00:00:00Z&limit=1000');
    t.equal(candles.body.count, closed, 'REST candles reach back into storage');
    const trades = await srv.get('/api/v1/market/GOOG/trades?start=2012-06-21T13:30:00Z&end=2012-06-21T13:35:00Z&limit=1000');
    t.ok(trades.body.count > 0, 'trades of a past range come from storage');
    for (const tr of trades.body.trades) t.ok(tr.timestamp >= '2012-06-21T13:30' && tr.timestamp <= '2012-06-21T13:35:00.000000Z');

    const asOf = await fetch(`${srv.http}/api/v1/market-data/bulk`, { method: 'POST', body: JSON.stringify({ symbols: ['GOOG'], as_of: '2012-06-21T15:00:00Z', fields: ['price', 'trade_count', 'volume'] }) });
    const past = ((await asOf.json()) as any).data.GOOG;
    const before = [...expected.entries()].filter(([minute]) => minute * 1e6 + 60e6 <= Date.parse('2012-06-21T15:00:00Z') * 1000 - Date.parse('2012-06-21T00:00:00Z') * 1000);
    t.equal(past.timestamp, '2012-06-21T15:00:00.000000Z');
    t.equal(past.data.price, dollars(before[before.length - 1][1].close), 'as_of price: the close of the last minute before it');
    t.equal(past.data.volume, String(before.reduce((a, [, c]) => a + c.volume, 0)), 'as_of volume: the day up to it');

    const errors: [string, number, string][] = [
      ['/api/v1/market-data/GOOG/history?interval=2m', 400, 'INVALID_INTERVAL'],
      ['/api/v1/market-data/GOOG/history?start_time=2012-06-22T00:00:00Z&end_time=2012-06-21T00:00:00Z', 400, 'INVALID_PARAMETER'],
      ['/api/v1/market-data/GOOG/history?format=xml', 400, 'INVALID_PARAMETER'],
      ['/api/v1/market-data/GOOG/history?fields=colour', 400, 'INVALID_PARAMETER'],
      ['/api/v1/market-data/GOOG/history?limit=10001', 400, 'INVALID_PARAMETER'],
      ['/api/v1/market-data/NOPE/history', 404, 'UNKNOWN_SYMBOL'],
    ];
    for (const [path, status, code] of errors) {
      const r = await srv.get(path);
      t.equal(r.status, status, path);
      t.equal(r.body.error.code, code, path);
    }
  },
);
