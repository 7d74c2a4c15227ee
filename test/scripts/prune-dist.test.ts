import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');

t.test('compiled files whose source is gone are removed before tap runs; the rest stays', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'bookcast-prune-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  cpSync(join(ROOT, 'scripts/prune-dist.sh'), join(root, 'scripts/prune-dist.sh'));
  mkdirSync(join(root, 'test/wire'), { recursive: true });
  writeFileSync(join(root, 'test/wire/kept.test.ts'), '');
  mkdirSync(join(root, 'dist/test/wire'), { recursive: true });
  mkdirSync(join(root, 'dist/test/gone'), { recursive: true });
  for (const f of ['dist/test/wire/kept.test.js', 'dist/test/wire/kept.test.js.map', 'dist/test/wire/deleted.test.js', 'dist/test/wire/deleted.test.js.map', 'dist/test/gone/old.test.js', 'dist/.tsbuildinfo']) {
    writeFileSync(join(root, f), '');
  }
  const result = spawnSync('bash', [join(root, 'scripts/prune-dist.sh')], { encoding: 'utf8' });
  t.equal(result.status, 0, result.stderr);
  t.match(result.stdout, /removed 2 compiled file/);
  t.ok(existsSync(join(root, 'dist/test/wire/kept.test.js')), 'a test with its source stays');
  t.ok(existsSync(join(root, 'dist/test/wire/kept.test.js.map')));
  t.ok(existsSync(join(root, 'dist/.tsbuildinfo')), 'the incremental build state stays');
  t.notOk(existsSync(join(root, 'dist/test/wire/deleted.test.js')), 'a deleted test no longer runs');
  t.notOk(existsSync(join(root, 'dist/test/wire/deleted.test.js.map')));
  t.notOk(existsSync(join(root, 'dist/test/gone')), 'nor a deleted folder of them');
});
