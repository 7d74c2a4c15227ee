import t from 'tap';
import { existsSync } from 'node:fs';
import { openDataDirs, startTestServer } from './test-server';

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
