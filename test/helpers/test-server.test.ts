import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { writeLobsterPair } from '../source/lobster-fixtures';
import { openDataDirs, sharedTestServer, startTestServer, waitFor } from './test-server';

t.test('a test server removes the data directory it was given when it stops', async (t) => {
  const srv = await startTestServer(['--rate', '50']);
  const dir = srv.dataDir!;
  t.ok(existsSync(dir), 'the store lives there while the server runs');
  await srv.server.stop();
  t.notOk(existsSync(dir), 'gone after stop');
  t.notOk(openDataDirs.has(dir));
});

t.test('a server that fails to start leaves no data directory behind', async (t) => {
  const before = new Set(openDataDirs);
  await t.rejects(startTestServer(['--max-message-bytes', 'lots']), { code: 'CONFIG_INVALID' });
  t.same([...openDataDirs].filter((d) => !before.has(d)), [], 'nothing left open');
});

t.test('a shared server starts once, when first asked, for every caller, and stops when its owner ends', async (t) => {
  let dir = '';
  await t.test('the owner', async (owner) => {
    const before = new Set(openDataDirs);
    const shared = sharedTestServer(owner, ['--rate', '50']);
    t.same([...openDataDirs].filter((d) => !before.has(d)), [], 'nothing started before it is asked for');
    const [a, b] = await Promise.all([shared(), shared()]);
    t.equal(a, b, 'one server for both callers');
    t.equal(await shared(), a, 'and for a later one');
    dir = a.dataDir!;
    t.ok(existsSync(dir), 'running');
  });
  t.notOk(existsSync(dir), 'stopped, its data directory removed, once its owner ended');
});

t.test('a wait ends at once, with the reason, when a running test server fails', async (t) => {
  // A real failure after the start: a LOBSTER replay whose second orderbook row is malformed.
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-failing-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = writeLobsterPair(dir, 1, ['34200.1,1,1,100,5853300,1', '34200.1,1,2,100,5853200,1'], ['9999999999,0,5853300,100', 'not,a,row']);
  const srv = await startTestServer(['--source', `lobster:${file}`]);
  // A hang guard shorter than the default, so that without the fix this fails in a minute, not three.
  await t.rejects(waitFor('something that never holds', () => false, 60_000), {
    message: /^the test server failed: WORKER_FAILED: source: LOBSTER_BAD_ROW: .* \(while waiting for something that never holds\)$/,
  });
  await srv.server.stop();
  let polls = 0;
  await waitFor('a condition after the failed server stopped', () => ++polls === 3);
  t.equal(polls, 3, 'a stopped server no longer ends waits');
});
