import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
export const RULES = path.join(ROOT, 'src/alerts/prometheus-rules.yml');
const RULE_TESTS = path.join(ROOT, 'test/alerts/fixtures/prometheus-rules.test.yml');
const PROMTOOL = '/usr/bin/promtool';

t.test('promtool accepts the alerting rules, and each alert fires on series past its threshold and not below', async (t) => {
  if (!existsSync(PROMTOOL)) {
    if (process.env.CI === 'true') throw new Error(`${PROMTOOL} is required with CI=true (Debian package prometheus)`);
    t.plan(0, `${PROMTOOL} not installed (Debian package prometheus); with CI=true this fails`);
    return;
  }
  const check = spawnSync(PROMTOOL, ['check', 'rules', RULES], { encoding: 'utf8' });
  t.equal(check.status, 0, check.stdout + check.stderr);
  t.match(check.stdout, /SUCCESS: 4 rules found/);
  const unit = spawnSync(PROMTOOL, ['test', 'rules', RULE_TESTS], { encoding: 'utf8' });
  t.equal(unit.status, 0, unit.stdout + unit.stderr);
});
