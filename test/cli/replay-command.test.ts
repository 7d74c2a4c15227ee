import t from 'tap';
import { join } from 'node:path';
import { replayCommand } from '../../src/cli/replay-command';
import { writeLobsterPair } from '../source/lobster-fixtures';

class Capture {
  text = '';
  write(text: string): boolean {
    this.text += text;
    return true;
  }
}

async function run(argv: string[]) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await replayCommand(argv, stdout, stderr);
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const MESSAGES = [
  '34200.000001,1,1,100,100000,1',
  '34200.000002,2,77,50,100000,1',
  '34200.000003,1,2,7,102500,-1',
];
const ROWS = [
  '101000,200,100000,300,102000,50,99000,400',
  '101000,200,100000,250,102000,50,99000,400',
  '101000,200,100000,250,102000,50,99000,400',
];

t.test('--json prints the final book, best levels first, as decimal strings', async (t) => {
  const path = writeLobsterPair(t.testdir({}), 2, MESSAGES, ROWS);
  const out = await run(['--source', `lobster:${path}`, '--json']);
  t.equal(out.code, 0);
  t.equal(out.stderr, '');
  t.same(JSON.parse(out.stdout), {
    symbol: 'TEST',
    sequence: 7, // 4 seeded levels, the add, the hidden cancel, the add beyond depth 2
    bids: [
      ['10.00', '250'],
      ['9.90', '400'],
    ],
    asks: [
      ['10.10', '200'],
      ['10.20', '50'],
      ['10.25', '7'],
    ],
  });
});

t.test('--until and --depth cut the replay and the output', async (t) => {
  const path = writeLobsterPair(t.testdir({}), 2, MESSAGES, ROWS);
  const out = await run([`--source=lobster:${path}`, '--until', '1', '--depth=1', '--json']);
  t.equal(out.code, 0);
  t.same(JSON.parse(out.stdout), { symbol: 'TEST', sequence: 5, bids: [['10.00', '300']], asks: [['10.10', '200']] });
});

t.test('without --json it prints a table', async (t) => {
  const path = writeLobsterPair(t.testdir({}), 2, MESSAGES, ROWS);
  const out = await run(['--source', `lobster:${path}`]);
  t.equal(out.code, 0);
  const lines = out.stdout.trimEnd().split('\n');
  t.equal(lines[0], 'TEST  sequence 7');
  t.match(lines[2], /^\s+250\s+10\.00 \| 10\.10\s+200$/);
  t.match(lines[4], /^\s+\| 10\.25\s+7$/);
  t.equal(lines.length, 5);
});

t.test('bad usage exits 2 with a message; replay failures exit 1 with the code', async (t) => {
  const dir = t.testdir({});
  const path = writeLobsterPair(dir, 2, MESSAGES, ROWS);
  for (const argv of [
    [],
    ['--source', path],
    ['--source', 'lobster:'],
    ['--source', `lobster:${path}`, '--until', '-1'],
    ['--source', `lobster:${path}`, '--until', '1.5'],
    ['--source', `lobster:${path}`, '--depth', '0'],
    ['--source', `lobster:${path}`, '--speed', '2'],
    ['--source', `lobster:${path}`, 'extra'],
  ]) {
    const out = await run(argv);
    t.equal(out.code, 2, argv.join(' '));
    t.match(out.stderr, /^bookcast replay: .*\nusage: bookcast replay --source lobster:/s, argv.join(' '));
    t.equal(out.stdout, '');
  }
  const missing = await run(['--source', `lobster:${join(dir, 'AAPL_2012-06-21_1_2_message_1.csv')}`]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^bookcast replay: LOBSTER_FILE_NOT_FOUND: /);
  const wrong = writeLobsterPair(t.testdir({}), 2, MESSAGES, [ROWS[0], ROWS[0], ROWS[2]]);
  const inconsistent = await run(['--source', `lobster:${wrong}`, '--json']);
  t.equal(inconsistent.code, 1);
  t.match(inconsistent.stderr, /LOBSTER_INCONSISTENT: .*row 2: bid 1000/);
});
