import t from 'tap';
import { SeqlockTable } from '../../src/ring/seqlock-table';
import { DURABLE_LAG_WINDOW_MS, DurableLagWindow } from '../../src/store/durable-lag';
import { DURABLE_LAG_SLOT, L_MAX_US, L_P50_US, L_P99_US, L_ROWS, L_WORDS } from '../../src/store/persistence-protocol';
import { startTestServer, waitFor } from '../helpers/test-server';

function window(): { lag: DurableLagWindow; read(): Float64Array } {
  const table = new SeqlockTable(new SharedArrayBuffer(SeqlockTable.byteLength(1, L_WORDS)), 1, L_WORDS);
  const out = new Float64Array(L_WORDS);
  return {
    lag: new DurableLagWindow(table, 0),
    read() {
      table.read(DURABLE_LAG_SLOT, out, L_WORDS);
      return out;
    },
  };
}

t.test('the window publishes p50, p99, max and rows of what was recorded', async (t) => {
  const { lag, read } = window();
  for (let us = 1; us <= 1000; us++) lag.record(us * 1000);
  lag.tick(1);
  const s = read();
  t.equal(s[L_ROWS], 1000);
  t.ok(Math.abs(s[L_P50_US] - 500_000) <= 5000, `p50 ${s[L_P50_US]} within 1% of 500 ms`);
  t.ok(Math.abs(s[L_P99_US] - 990_000) <= 9900, `p99 ${s[L_P99_US]} within 1% of 990 ms`);
  t.ok(Math.abs(s[L_MAX_US] - 1_000_000) <= 10_000, `max ${s[L_MAX_US]} within 1% of 1 s`);
  lag.record(-5);
  lag.record(1e15);
  lag.tick(1000);
  t.equal(read()[L_ROWS], 1002, 'negative and huge lags are clamped, not refused');
});

t.test('rows leave the window once it has moved on by a minute, also while nothing is recorded', async (t) => {
  const { lag, read } = window();
  lag.record(10);
  lag.tick(30_000);
  lag.record(20);
  lag.tick(31_000);
  t.equal(read()[L_ROWS], 2);
  lag.tick(DURABLE_LAG_WINDOW_MS + 1);
  t.equal(read()[L_ROWS], 1, 'the first row aged out, the second is still inside');
  lag.tick(10 * DURABLE_LAG_WINDOW_MS);
  t.equal(read()[L_ROWS], 0, 'after a long idle stretch the window is empty');
});

t.test('a running server reports the event-to-durable lag distribution of stored trades', async (t) => {
  const srv = await startTestServer(['--rate', '3000', '--symbols', 'BTC/USD,ETH/USD', '--batch-ms', '50']);
  t.teardown(() => srv.server.stop());
  let persistence: any;
  await waitFor('trades stored and their lag published', async () => {
    persistence = (await srv.get('/api/v1/health')).body.persistence;
    return persistence.durable_lag_ms.rows >= 100;
  });
  const lag = persistence.durable_lag_ms;
  t.same(Object.keys(lag), ['p50', 'p99', 'max', 'rows']);
  t.ok(lag.rows <= persistence.trades, 'counts only stored trades');
  t.ok(lag.p50 >= 0 && lag.p50 <= lag.p99 && lag.p99 <= lag.max, `p50 ${lag.p50} <= p99 ${lag.p99} <= max ${lag.max}`);
});
