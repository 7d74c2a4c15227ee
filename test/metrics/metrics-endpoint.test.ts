import t from 'tap';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { connectRecorded } from '../helpers/client-recorder';
import { scrape, sum, value } from '../helpers/scrape';
import { startTestServer, waitFor } from '../helpers/test-server';
import { refusedUpgrade } from '../helpers/ws-connect';

t.test('GET /metrics reports deliveries, latency, connections, queues, storage, REST and per-symbol figures from a live feed', async (t) => {
  const srv = await startTestServer(['--rate', '2000', '--workers', '2', '--metrics-window-ms', '60000']);
  t.teardown(() => srv.server.stop());
  const [json, binary] = await Promise.all([connectRecorded(srv), connectRecorded(srv, { format: 'flatbuffers' })]);
  json.client.subscribe({ channels: ['l2', 'trades'], symbols: ['BTC/USD', 'ETH/USD'], depth: 10 });
  binary.client.subscribe({ channels: ['l2'], symbols: ['BTC/USD'], depth: 10 });
  t.same(await refusedUpgrade(`${srv.url}/ws?format=xml`), { status: 400, code: 'INVALID_PARAMETER' }, 'a refused upgrade');
  t.equal((await srv.get('/api/v1/market/BTC-USD/ticker')).status, 200);
  t.equal((await srv.get('/api/v1/market/NOPE-USD/ticker')).status, 404);

  await waitFor('updates in both formats', () => json.stream('l2 BTC/USD').updates > 5 && binary.stream('l2 BTC/USD').updates > 5);
  const m = await scrape(srv.http);

  t.ok(value(m, 'bookcast_messages_published_total', { type: 'l2_update', format: 'feed_json' })! > 0, 'l2 updates published as feed JSON');
  t.ok(value(m, 'bookcast_messages_published_total', { type: 'l2_update', format: 'flatbuffers' })! > 0, 'and as FlatBuffers');
  t.equal(value(m, 'bookcast_messages_published_total', { type: 'l3_update', format: 'flatbuffers' }), 0, 'nobody follows l3');
  t.ok(sum(m, 'bookcast_messages_published_total') <= srv.server.hub.published, 'the per-type counts add up to what the hub published (read before it)');

  t.equal(value(m, 'bookcast_connections', { dialect: 'feed_json', transport: 'websocket' }), 1);
  t.equal(value(m, 'bookcast_connections', { dialect: 'flatbuffers', transport: 'websocket' }), 1);
  t.equal(value(m, 'bookcast_connections', { dialect: 'market_data', transport: 'websocket' }), 0);
  t.equal(value(m, 'bookcast_connections', { dialect: 'fix', transport: 'tcp' }), 0, 'FIX sessions have their dialect and transport');
  t.same(m.filter((x) => Object.values(x.labels).includes('undefined')).map((x) => x.name), [], 'every label has a value (a format without a name would export "undefined")');
  t.equal(value(m, 'bookcast_websocket_upgrade_requests_total'), 3, 'three upgrade requests');
  t.equal(value(m, 'bookcast_websocket_upgrades_refused_total'), 1, 'one refused');

  const p50 = value(m, 'bookcast_event_to_send_latency_seconds', { channel: 'l2', quantile: '0.5' })!;
  const p95 = value(m, 'bookcast_event_to_send_latency_seconds', { channel: 'l2', quantile: '0.95' })!;
  const p99 = value(m, 'bookcast_event_to_send_latency_seconds', { channel: 'l2', quantile: '0.99' })!;
  t.ok(p50 > 0 && p50 <= p95 && p95 <= p99, `l2 event-to-send quantiles are ordered: ${p50} ${p95} ${p99} s`);
  t.ok(value(m, 'bookcast_event_to_send_latency_samples', { channel: 'l2' })! > 0, 'from samples in the window');
  t.equal(value(m, 'bookcast_event_to_send_latency_samples', { channel: 'l3' }), 0, 'no l3 sample: nothing sent');
  t.equal(value(m, 'bookcast_event_to_send_latency_seconds', { channel: 'l3', quantile: '0.99' }), undefined, 'and no l3 quantile');
  const applied = [0.5, 0.95, 0.99].map((q) => value(m, 'bookcast_event_to_apply_latency_seconds', { quantile: String(q) })!);
  t.ok(applied[0] > 0 && applied[0] <= applied[1] && applied[1] <= applied[2], `event-to-apply quantiles are ordered: ${applied.join(' ')} s`);
  t.ok(value(m, 'bookcast_event_to_apply_latency_samples')! > 0, 'from the book workers\' samples in the window');

  for (const ring of ['event', 'out', 'control', 'persist']) {
    for (const worker of ['0', '1']) {
      const used = value(m, 'bookcast_ring_used_bytes', { ring, worker });
      const capacity = value(m, 'bookcast_ring_capacity_bytes', { ring, worker })!;
      t.ok(used !== undefined && used >= 0 && used <= capacity && capacity > 0, `${ring} ring of worker ${worker}: ${used} of ${capacity} bytes`);
    }
  }
  for (const queue of ['connection_send_buffer', 'persistence_spool', 'heavy_requests']) t.ok(value(m, 'bookcast_queue_depth', { queue })! >= 0, `queue ${queue}`);

  const size = value(m, 'bookcast_storage_size_bytes')!;
  const free = value(m, 'bookcast_storage_free_bytes')!;
  t.ok(size > 0 && free > 0 && free <= size && value(m, 'bookcast_storage_used_bytes')! <= size, 'storage of the data directory');

  const ticker = { route: '/api/v1/market/:symbol/ticker' };
  t.equal(value(m, 'bookcast_http_request_duration_seconds_count', { ...ticker, status: '200' }), 1, 'REST: the ticker answered 200 once');
  t.equal(value(m, 'bookcast_http_request_duration_seconds_count', { ...ticker, status: '404' }), 1, 'and 404 once');
  t.ok(value(m, 'bookcast_http_request_duration_seconds_sum', { ...ticker, status: '200' })! > 0, 'with its time');

  const accepted = sum(m, 'bookcast_events_total', { result: 'accepted' });
  t.ok(accepted > 0 && accepted <= value(m, 'bookcast_source_events_total')!, 'events accepted by the workers, at most what the source emitted');
  for (const symbol of srv.symbols.keys()) {
    t.ok(value(m, 'bookcast_symbol_sequence', { symbol })! > 0, `${symbol} has a sequence`);
    const stale = value(m, 'bookcast_symbol_staleness_seconds', { symbol });
    t.ok(stale !== undefined && stale >= 0, `${symbol} staleness ${stale} s`);
  }

  // The Prometheus rules (src/alerts/prometheus-rules.yml) use names this server exports.
  const rules = readFileSync(path.resolve(__dirname, '../../../src/alerts/prometheus-rules.yml'), 'utf8');
  for (const name of new Set(rules.match(/bookcast_[a-z0-9_]+/g))) t.ok(m.some((s) => s.name === name), `the rules' ${name} is exported`);

  const closed = new Promise((resolve) => json.client.once('close', resolve));
  json.client.close();
  await closed;
  binary.client.close();
  await waitFor('both connections gone from the gauge', async () => sum(await scrape(srv.http), 'bookcast_connections') === 0);
  const after = await scrape(srv.http);
  t.equal(sum(after, 'bookcast_websocket_closes_total'), 2, 'two closes counted by code');
  t.equal(value(after, 'bookcast_http_request_duration_seconds_count', { route: '/metrics', status: '200' })! >= 1, true, '/metrics counts itself');
});

t.test("in every scrape and health report of a fast feed, the workers' accepted events are at most what the source emitted", async (t) => {
  // The source publishes its count before the books see the events it counts; a report that read
  // the source first would show the books ahead of it whenever an event landed between the reads.
  const srv = await startTestServer(['--rate', '50000', '--workers', '2']);
  t.teardown(() => srv.server.stop());
  await waitFor('events accepted', async () => (await srv.get('/api/v1/health')).body.workers.some((w: { accepted: number }) => w.accepted > 0));
  let ahead = 0;
  for (let round = 0; round < 50; round++) {
    const [m, health] = await Promise.all([scrape(srv.http), srv.get('/api/v1/health')]);
    if (sum(m, 'bookcast_events_total', { result: 'accepted' }) > value(m, 'bookcast_source_events_total')!) ahead++;
    const accepted = health.body.workers.reduce((n: number, w: { accepted: number }) => n + w.accepted, 0);
    if (accepted > health.body.source.events) ahead++;
  }
  t.equal(ahead, 0, 'no report of 100 shows the books ahead of the source');
});
