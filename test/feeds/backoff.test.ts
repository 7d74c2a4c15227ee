import t from 'tap';
import { Backoff } from '../../src/feeds/backoff';

t.test('full jitter: uniform below a ceiling that doubles to the cap; reset starts over', async (t) => {
  const top = new Backoff(250, 30_000, () => 0.999999);
  t.same(Array.from({ length: 10 }, () => top.next()), [249, 499, 999, 1999, 3999, 7999, 15999, 29999, 29999, 29999], 'the ceiling doubles, then stays at the cap');
  top.reset();
  t.equal(top.next(), 249, 'reset starts from the base again');
  const bottom = new Backoff(250, 30_000, () => 0);
  t.equal(bottom.next(), 0, 'a draw of 0 retries at once');
  let draws = 0;
  const seeded = new Backoff(100, 1000, () => ((draws = (draws * 7 + 3) % 10), draws / 10));
  for (let i = 0; i < 50; i++) {
    const delay = seeded.next();
    t.ok(delay >= 0 && delay < Math.min(1000, 100 * 2 ** i), `attempt ${i}: ${delay} ms within its ceiling`);
  }
});
