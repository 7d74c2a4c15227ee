import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const main = path.join(__dirname, '..', '..', 'src', 'main.js');
/** A hang guard for the refused start, far above what a start takes on a loaded machine (it once took more than 20 s). */
const HANG_GUARD_MS = 300_000;

t.test('the server refuses to start on the pure-JavaScript uWebSockets.js fallback', async (t) => {
  const run = spawnSync(process.execPath, [main, '--port', '0'], {
    env: { ...process.env, UWS_USE_FALLBACK: '1' },
    encoding: 'utf8',
    timeout: HANG_GUARD_MS,
  });
  t.equal(run.status, 1, 'exit code 1');
  t.match(run.stderr, /UWS_FALLBACK/, 'names the error code');
  t.match(run.stderr, /refusing to start/);
  t.notMatch(run.stdout, /bookcast is running/);
});

t.test('a bad option is reported with CONFIG_INVALID and exit code 1', async (t) => {
  const run = spawnSync(process.execPath, [main, '--port', '99999'], { encoding: 'utf8', timeout: HANG_GUARD_MS });
  t.equal(run.status, 1);
  t.match(run.stderr, /CONFIG_INVALID: port must be an integer/);
});
