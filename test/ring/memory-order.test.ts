import t from 'tap';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { checkMemoryOrder, SEQLOCK_ARCHITECTURES } from '../../src/ring/memory-order';

const main = path.join(__dirname, '..', '..', 'src', 'main.js');
const fakeArch = path.join(__dirname, 'fixtures', 'fake-arch.js');

t.test('the seqlock is argued for x64 and arm64 and refuses every other CPU with a code', async (t) => {
  t.same(SEQLOCK_ARCHITECTURES, ['x64', 'arm64']);
  for (const arch of SEQLOCK_ARCHITECTURES) t.doesNotThrow(() => checkMemoryOrder(arch), arch);
  for (const arch of ['ppc64', 's390x', 'riscv64', 'loong64', 'mips64el', 'ia32', 'arm']) {
    t.throws(() => checkMemoryOrder(arch), { code: 'UNSUPPORTED_ARCH', message: new RegExp(`this is ${arch}`) }, arch);
  }
});

// 32-bit ARM: the uWS package has a binary for it, so only this check stops the server there.
t.test('a server on another CPU refuses to start, naming UNSUPPORTED_ARCH', async (t) => {
  const run = spawnSync(process.execPath, ['--require', fakeArch, main, '--port', '0', '--source', 'none'], {
    env: { ...process.env, BOOKCAST_TEST_ARCH: 'arm', BOOKCAST_DATA_DIR: t.testdir({}) },
    encoding: 'utf8',
    timeout: 300_000, // a hang guard: a refused start can take a minute on a loaded machine
  });
  t.equal(run.status, 1, 'exit code 1');
  t.match(run.stderr, /UNSUPPORTED_ARCH: .*this is arm; refusing to start/);
  t.notMatch(run.stdout, /bookcast is running/);
});
