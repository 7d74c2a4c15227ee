import t from 'tap';
import { AlertRule } from '../../src/alerts/alert-rule';

t.test('a condition is pending for forMs, then fires; when it clears the alert is resolved', async (t) => {
  const rule = new AlertRule('QueueDepthHigh', '', 10, 'items', 'above', 1000);
  t.equal(rule.evaluate(5, '', 0), null);
  t.equal(rule.state, 'inactive');
  t.equal(rule.evaluate(11, '', 100), 'pending');
  t.same([rule.state, rule.since()], ['pending', 100]);
  t.equal(rule.evaluate(12, '', 1099), null, 'still pending just before forMs');
  t.equal(rule.evaluate(12, '', 1100), 'firing');
  t.same([rule.state, rule.since(), rule.activeAt, rule.value], ['firing', 1100, 100, 12]);
  t.equal(rule.evaluate(10, '', 1200), 'resolved', 'at the threshold it no longer holds');
  t.same([rule.state, rule.since(), rule.activeAt], ['resolved', 1200, null]);
});

t.test('a pending condition that clears never fired: back to inactive, or to resolved if it fired before', async (t) => {
  const rule = new AlertRule('StorageFreeLow', '', 20, 'percent', 'below', 1000);
  rule.evaluate(19, '', 0);
  rule.evaluate(25, '', 500);
  t.equal(rule.state, 'inactive');
  rule.evaluate(19, '', 1000);
  rule.evaluate(19, '', 2000);
  rule.evaluate(30, '', 2500);
  t.equal(rule.state, 'resolved');
  t.equal(rule.evaluate(19, '', 3000), 'pending');
  rule.evaluate(30, '', 3500);
  t.same([rule.state, rule.resolvedAt], ['resolved', 2500], 'the earlier resolution stands');
});

t.test('no value (nothing measured) does not hold; forMs 0 fires at the first evaluation that holds', async (t) => {
  const rule = new AlertRule('LatencyP99High', '', 10, 'ms', 'above', 0);
  t.equal(rule.evaluate(null, '', 0), null);
  t.equal(rule.evaluate(10.5, '', 1), 'firing');
  t.equal(rule.evaluate(null, '', 2), 'resolved');
});
