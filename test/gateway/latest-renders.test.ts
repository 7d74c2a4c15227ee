import t from 'tap';
import { LATEST_RENDERS_MAX, LatestRenders } from '../../src/gateway/latest-renders';
import { parseFields, SNAPSHOT_FIELDS } from '../../src/gateway/market-snapshot';
import { startTestServer } from '../helpers/test-server';

/** A random ordering of a random non-empty subset of the fields, some named twice. */
function randomFields(random: () => number): string {
  const picked = SNAPSHOT_FIELDS.filter(() => random() < 0.5);
  if (picked.length === 0) picked.push('price');
  const list = [...picked, ...picked.filter(() => random() < 0.2)];
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list.join(',');
}

t.test('renders are keyed by field set, bounded however many orderings arrive', async (t) => {
  const renders = new LatestRenders();
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = 0; i < 50_000; i++) {
    const fields = parseFields(randomFields(random));
    renders.set(i % 5, fields, { sequence: i, second: 0, body: fields.join(','), hit: null });
  }
  t.ok(renders.size <= LATEST_RENDERS_MAX, `${renders.size} renders held, at most ${LATEST_RENDERS_MAX}`);
  const a = parseFields('bid,price,ask,price');
  renders.set(3, a, { sequence: 1, second: 2, body: 'x', hit: null });
  t.equal(renders.get(3, parseFields('ask,bid,price'))?.body, 'x', 'another ordering of the same set finds the same render');
  t.equal(renders.get(3, parseFields('ask,bid')), undefined, 'another set does not');
  t.equal(renders.get(4, parseFields('price,ask,bid')), undefined, 'nor another instrument');
});

t.test('latest answers the same body for every ordering of the same fields', async (t) => {
  // No source: the books stay as they are, so equal field sets must give equal bodies.
  const srv = await startTestServer(['--source', 'none', '--symbols', 'BTC/USD']);
  t.teardown(() => srv.server.stop());
  const canonical = await srv.get('/api/v1/market-data/BTC-USD/latest?fields=price,bid,ask,spread,quality_score,volume');
  t.equal(canonical.status, 200);
  const expected = JSON.stringify({ ...canonical.body, cache_hit: null });
  let seed = 11;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const same = ['price', 'bid', 'ask', 'spread', 'quality_score', 'volume'];
  let differing = 0;
  for (let i = 0; i < 200; i++) {
    const order = [...same].sort(() => random() - 0.5);
    if (random() < 0.3) order.push(order[0]);
    const r = await srv.get(`/api/v1/market-data/BTC-USD/latest?fields=${order.join(',')}`);
    t.equal(r.status, 200);
    if (JSON.stringify({ ...r.body, cache_hit: null }) !== expected && differing++ < 3) t.fail(`fields=${order.join(',')} answered ${JSON.stringify(r.body)}`);
  }
  t.equal(differing, 0, 'every ordering answers the same body');
  const mixed = await srv.get(`/api/v1/market-data/BTC-USD/latest?fields=${randomFields(random)}`);
  t.same(Object.keys(mixed.body.data), SNAPSHOT_FIELDS.filter((f) => f in mixed.body.data), 'data keys in the catalog order');
});
