import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { findLobsterSamples, lobsterDataDir } from '../../src/source/lobster-files';

const bin = path.join(__dirname, '..', '..', '..', 'bin', 'bookcast.js');

const dir = lobsterDataDir();
const present = existsSync(dir) && findLobsterSamples(dir).length > 0;
if (!present && process.env.CI === 'true') t.fail(`LOBSTER samples missing at ${dir} (required with CI=true)`);

t.test('npx bookcast replay prints the L2 book after N events', { skip: present ? false : `LOBSTER samples not found at ${dir}; set BOOKCAST_LOBSTER_DIR to run this test` }, async (t) => {
  const file = findLobsterSamples(dir).find((f) => f.includes('GOOG') && f.endsWith('_10.csv'))!;
  const run = spawnSync(process.execPath, [bin, 'replay', '--source', `lobster:${file}`, '--until', '1000', '--depth', '5', '--json'], { encoding: 'utf8' });
  t.equal(run.status, 0, run.stderr);
  const book = JSON.parse(run.stdout);
  t.equal(book.symbol, 'GOOG');
  t.equal(book.bids.length, 5);
  t.match(book.bids[0][0], /^\d+\.\d\d$/);
  t.ok(Number(book.bids[0][0]) < Number(book.asks[0][0]), 'not crossed');
});

t.test('npx bookcast with a bad subcommand option fails with usage', async (t) => {
  const run = spawnSync(process.execPath, [bin, 'replay', '--bogus'], { encoding: 'utf8' });
  t.equal(run.status, 2);
  t.match(run.stderr, /usage/i);
});
