import t from 'tap';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');

/** Absolute path of a tool, so the scripts can run with a PATH that lacks flatc. */
function which(tool: string): string {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
}

const BASH = which('bash');
const flatc = spawnSync('flatc', ['--version']).status === 0;
/** Without flatc these checks skip on a developer's machine; with CI=true they run and fail. */
const noFlatc = !flatc && process.env.CI !== 'true' && 'flatc not installed';

/** A scratch copy of what the wire scripts touch, so the test can break it without harm. */
function scratchRepo(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'bookcast-check-wire-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const part of ['fbs', 'scripts', 'src/wire/generated']) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
  return dir;
}

function run(root: string, script: string, env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(BASH, [join(root, 'scripts', script)], { env, encoding: 'utf8' });
}

t.test('the committed generated code is what the schema generates', { skip: noFlatc }, async (t) => {
  const result = run(ROOT, 'check-wire.sh');
  t.equal(result.status, 0, result.stdout + result.stderr);
});

t.test('a hand edit in generated/ fails the check; regenerating fixes it', { skip: noFlatc }, async (t) => {
  const root = scratchRepo(t);
  appendFileSync(join(root, 'src/wire/generated/bookcast/wire/trade.ts'), '// hand edit\n');
  const stale = run(root, 'check-wire.sh');
  t.equal(stale.status, 1);
  t.match(stale.stdout, /hand edit/, 'the diff shows the edit');
  t.match(stale.stderr, /stale/);
  t.equal(run(root, 'generate-wire.sh').status, 0);
  t.equal(run(root, 'check-wire.sh').status, 0);
});

t.test('a schema change without regeneration fails the check', { skip: noFlatc }, async (t) => {
  const root = scratchRepo(t);
  appendFileSync(join(root, 'fbs/bookcast.fbs'), 'table Extra { x: int; }\n');
  t.equal(run(root, 'check-wire.sh').status, 1);
});

t.test('without flatc the check skips and says why, except with CI=true, where it fails', async (t) => {
  const root = scratchRepo(t);
  const bin = join(root, 'bin');
  mkdirSync(bin);
  symlinkSync(which('dirname'), join(bin, 'dirname'));
  const result = run(root, 'check-wire.sh', { PATH: bin });
  t.equal(result.status, 0, result.stderr);
  t.match(result.stdout, /flatc not found/);
  const ci = run(root, 'check-wire.sh', { PATH: bin, CI: 'true' });
  t.equal(ci.status, 1, 'CI must prove the generated code, so a missing flatc is a failure there');
  t.match(ci.stderr, /flatc not found.*CI=true/);
});
