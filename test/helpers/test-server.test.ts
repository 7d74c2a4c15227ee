import t from 'tap';
import { existsSync } from 'node:fs';
import { openDataDirs, sharedTestServer, startTestServer } from './test-server';

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
