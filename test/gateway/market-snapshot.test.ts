import t from 'tap';
import { parseFields, qualityScore, DEFAULT_FIELDS } from '../../src/gateway/market-snapshot';

t.test('fields: default set, selection, unknown field rejected', async (t) => {
  t.same(parseFields(undefined), DEFAULT_FIELDS);
  t.same(parseFields('price,bid,price'), ['price', 'bid']);
  t.throws(() => parseFields('price,colour'), { code: 'INVALID_PARAMETER', message: /colour/ });
});

t.test('quality score: freshness × book health × depth', async (t) => {
  t.equal(qualityScore(1e6, 10, 10, 100, 101, 10, 10), 1);
  t.equal(qualityScore(60e6, 10, 10, 100, 101, 10, 10), 0, 'a minute old is worthless');
  t.equal(qualityScore(32.5e6, 10, 10, 100, 101, 10, 10), 0.5, 'half way down the freshness ramp');
  t.equal(qualityScore(0, 10, 0, 100, 0, 10, 0), 0.5 * 0.5, 'one empty side');
  t.equal(qualityScore(0, 10, 10, 101, 100, 10, 10), 0.25, 'crossed');
  t.equal(qualityScore(0, 1, 1, 100, 101, 1, 1), 0.5, 'one level a side');
  t.equal(qualityScore(0, 0, 0, 0, 0, 0, 0), 0, 'no book');
});
