import t from 'tap';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { replayCommand } from '../../src/cli/replay-command';
import { writeLobsterPair } from '../source/lobster-fixtures';
import { expectedBooks, journalTimes, recordJournal, SYMBOLS } from '../source/journal-replay-fixtures';
import { formatTimestampMicros } from '../../src/wire/timestamp';

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

/** One journal for every test below: recording it means starting and stopping a real server. */
const recorded = recordJournal(t, 6000);

t.test('journal: prints every recorded book at --until, equal to an independent replay', async (t) => {
  const dir = await recorded;
  const times = journalTimes(dir);
  const until = times[Math.floor(times.length / 2)];
  const expected = expectedBooks(dir, until, 50);
  const out = await run(['--source', `journal:${dir}`, '--until', String(until), '--depth', '50', '--json']);
  t.equal(out.code, 0, out.stderr);
  const lines = out.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
  t.same(lines.map((b) => b.symbol), SYMBOLS, 'one line per recorded symbol, in recorded order');
  for (const b of lines) {
    const e = expected.get(b.symbol)!;
    t.equal(b.sequence, e.sequence, `${b.symbol} sequence`);
    t.equal(JSON.stringify({ bids: b.bids, asks: b.asks }), e.levels, `${b.symbol} book`);
  }
  t.ok(lines.some((b) => b.bids.length > 0 && b.asks.length > 0), 'the books are not empty');

  // The same time as ISO-8601 and as epoch ms (cut to the millisecond) select the same events.
  const iso = await run(['--source', `journal:${dir}`, `--until=${formatTimestampMicros(until)}`, '--depth', '50', '--json']);
  t.equal(iso.stdout, out.stdout, 'ISO-8601 --until');
  const ms = Math.floor(until / 1000);
  const byMs = await run(['--source', `journal:${dir}`, '--until', String(ms), '--json', '--symbol', 'eth-usd', '--depth', '50']);
  const eth = JSON.parse(byMs.stdout);
  t.equal(eth.symbol, 'ETH/USD', '--symbol in any spelling prints that book only');
  t.equal(JSON.stringify({ bids: eth.bids, asks: eth.asks }), expectedBooks(dir, ms * 1000, 50).get('ETH/USD')!.levels, 'epoch-ms --until');

  // --from does not change the books: they are built from the journal's start either way.
  const from = await run(['--source', `journal:${dir}`, '--from', String(times[10]), '--until', String(until), '--depth', '50', '--json']);
  t.equal(from.stdout, out.stdout, '--from keeps the state before it');
  const all = await run(['--source', `journal:${dir}`, '--json', '--depth', '50']);
  const final = expectedBooks(dir, Infinity, 50);
  for (const line of all.stdout.trimEnd().split('\n')) {
    const b = JSON.parse(line);
    t.equal(b.sequence, final.get(b.symbol)!.sequence, `${b.symbol}: without --until, the whole journal`);
  }
  const table = await run(['--source', `journal:${dir}`, '--depth', '3']);
  t.equal(table.code, 0);
  t.same(table.stdout.split('\n').filter((l) => / sequence \d+$/.test(l)).map((l) => l.split('  ')[0]), SYMBOLS, 'a table per symbol');
});

t.test('journal: bad inputs', async (t) => {
  const dir = await recorded;
  const empty = t.testdir({});
  // A journal whose first records retention deleted: its only segment now starts at record 2.
  const truncated = join(empty, 'truncated');
  mkdirSync(truncated);
  copyFileSync(join(dir, 'instruments.json'), join(truncated, 'instruments.json'));
  copyFileSync(join(dir, 'journal-00000000000000000001.log'), join(truncated, 'journal-00000000000000000002.log'));
  const failures: [string[], number, RegExp][] = [
    [['--source', `journal:${join(empty, 'missing')}`], 1, /^bookcast replay: JOURNAL_NOT_FOUND: no journal directory at /],
    [['--source', `journal:${empty}`], 1, /^bookcast replay: JOURNAL_NOT_FOUND: .* has no instruments\.json/],
    [['--source', `journal:${truncated}`], 1, /^bookcast replay: HISTORY_EXPIRED: the journal in .* starts at record 2/],
    [['--source', `journal:${dir}`, '--until', 'yesterday'], 2, /until must be an ISO-8601 time or epoch milliseconds or microseconds, got "yesterday"\nusage:/],
    [['--source', `journal:${dir}`, '--from', '2024-13-01T00:00:00Z'], 2, /from must be an ISO-8601 time/],
    [['--source', `journal:${dir}`, '--from', '1.5'], 2, /from must be/],
    [['--source', `journal:${dir}`, '--from', '2024-05-02T00:00:00Z', '--until', '2024-05-01T00:00:00Z'], 2, /from \(2024-05-02T00:00:00Z\) is after until/],
    [['--source', `journal:${dir}`, '--symbol', 'DOGE/USD'], 2, /--symbol DOGE\/USD is not in the journal \(BTC\/USD, ETH\/USD, SIM001\/USD\)/],
    [['--source', `journal:${dir}`, '--speed', '2'], 2, /Unknown option '--speed'/],
    [['--source', `lobster:${join(empty, 'X_2012-06-21_1_2_message_1.csv')}`, '--from', '1'], 2, /--from and --symbol apply to a journal/],
    [['--source', 'journal:'], 2, /--source lobster:<message file> or journal:<dir> is required/],
  ];
  for (const [argv, code, message] of failures) {
    const out = await run(argv);
    t.equal(out.code, code, argv.join(' '));
    t.match(out.stderr, message, argv.join(' '));
    t.equal(out.stdout, '');
  }
});

t.test('journal --serve: refuses the data directory\'s own live journal and sources that are not recordings', async (t) => {
  const dataDir = t.testdir({ journal: {} });
  const own = await run(['--source', `journal:${join(dataDir, 'journal')}`, '--serve', '--data-dir', join(dataDir, '.'), '--port', '0']);
  t.equal(own.code, 2);
  t.match(own.stderr, /^bookcast replay: CONFIG_INVALID: .*journal is the live journal of --data-dir/);
  const window = await run(['--source', `journal:${join(dataDir, 'journal')}`, '--serve', '--data-dir', join(dataDir, 'elsewhere'), '--from', '2', '--until', '1']);
  t.equal(window.code, 2);
  t.match(window.stderr, /CONFIG_INVALID: from \(2\) is after until \(1\)/);
  const live = await run(['--serve', '--source', 'simulator']);
  t.equal(live.code, 2);
  t.match(live.stderr, /--serve needs --source journal:<dir> or lobster:<message file>/);
});
