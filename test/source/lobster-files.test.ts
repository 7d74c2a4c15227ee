import t from 'tap';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  LobsterBookReader,
  LobsterMessageReader,
  findLobsterSamples,
  lobsterDataDir,
  lobsterFiles,
  MAX_DECIMALS,
  parseLobsterTime,
} from '../../src/source/lobster-files';
import { FIXTURE_PREFIX, writeLobsterPair } from './lobster-fixtures';

const MIDNIGHT = Date.UTC(2012, 5, 21) * 1000;

t.test('the message file names its orderbook file, ticker, date and depth', async (t) => {
  const dir = t.testdir({});
  const path = writeLobsterPair(dir, 10, ['34200.1,1,1,100,5853300,1'], ['0,0,0,0']);
  const files = lobsterFiles(path);
  t.equal(files.orderbookPath, join(dir, `${FIXTURE_PREFIX}_orderbook_10.csv`));
  t.equal(files.ticker, 'TEST');
  t.equal(files.date, '2012-06-21');
  t.equal(files.depth, 10);
  t.equal(files.startMs, 34200000);
  t.equal(files.endMs, 57600000);
  t.equal(files.midnightMicros, MIDNIGHT);
  t.equal(new Date(files.midnightMicros / 1000).toISOString(), '2012-06-21T00:00:00.000Z');
});

t.test('naming errors carry codes', async (t) => {
  const dir = t.testdir({});
  const path = writeLobsterPair(dir, 1, ['34200.1,1,1,100,5853300,1'], ['1,1,1,1']);
  t.throws(() => lobsterFiles(join(dir, 'AAPL_message_1.csv')), { code: 'LOBSTER_BAD_NAME' });
  t.throws(() => lobsterFiles(join(dir, 'AAPL_2012-02-30_1_2_message_1.csv')), { code: 'LOBSTER_BAD_NAME' });
  t.throws(() => lobsterFiles(join(dir, 'AAPL_2012-06-21_1_2_message_1.csv')), { code: 'LOBSTER_FILE_NOT_FOUND' });
  rmSync(join(dir, `${FIXTURE_PREFIX}_orderbook_1.csv`));
  t.throws(() => lobsterFiles(path), { code: 'LOBSTER_FILE_NOT_FOUND', message: /orderbook_1\.csv/ });
});

t.test('time is exact microseconds since the epoch (UTC), sub-microsecond digits truncated', async (t) => {
  t.equal(parseLobsterTime('34200.004241176', MIDNIGHT), MIDNIGHT + 34200_004241);
  t.equal(parseLobsterTime('34200.00426064', MIDNIGHT), MIDNIGHT + 34200_004260);
  t.equal(parseLobsterTime('34200.5', MIDNIGHT), MIDNIGHT + 34200_500000);
  t.equal(parseLobsterTime('57599', MIDNIGHT), MIDNIGHT + 57599_000000);
  t.equal(parseLobsterTime('34200.999999999', MIDNIGHT), MIDNIGHT + 34200_999999);
  // Binary floating point gets this one wrong: 34200.003988 * 1e6 = 34200003987.99999.
  t.equal(parseLobsterTime('34200.003988', MIDNIGHT), MIDNIGHT + 34200_003988);
  t.equal(new Date(parseLobsterTime('34200.25', MIDNIGHT) / 1000).toISOString(), '2012-06-21T09:30:00.250Z');
  for (const bad of ['', '34200.', '34200.' + '1'.repeat(MAX_DECIMALS + 1), '-1', '1e3', '34200.1x', '.5']) {
    t.throws(() => parseLobsterTime(bad, MIDNIGHT), { code: 'LOBSTER_BAD_ROW' }, bad);
  }
});

t.test('binary floating-point artifacts past the nanosecond are rounded to it on the digits', async (t) => {
  // The double nearest 43002.632812672 printed with 17 significant digits.
  t.equal(parseLobsterTime('43002.632812672004', MIDNIGHT), MIDNIGHT + 43002_632812);
  t.equal(parseLobsterTime('34200.0042411759999', MIDNIGHT), MIDNIGHT + 34200_004241, 'rounds up to .004241176000');
  t.equal(parseLobsterTime('34200.0042409995', MIDNIGHT), MIDNIGHT + 34200_004241, 'a half rounds up, into the next µs');
  t.equal(parseLobsterTime('34200.0042409994999', MIDNIGHT), MIDNIGHT + 34200_004240, 'only the tenth decimal decides');
  t.equal(parseLobsterTime('34200.9999999996', MIDNIGHT), MIDNIGHT + 34201_000000, 'the carry reaches the seconds');
  t.equal(parseLobsterTime('34200.' + '9'.repeat(MAX_DECIMALS), MIDNIGHT), MIDNIGHT + 34201_000000);
  t.equal(parseLobsterTime('34200.1234567890', MIDNIGHT), MIDNIGHT + 34200_123456);
  const dir = t.testdir({ 'm.csv': '34200.004241176,1,1,18,5853300,1\n43002.632812672004,3,1,18,5853300,1\n' });
  const reader = new LobsterMessageReader(join(dir, 'm.csv'), MIDNIGHT);
  t.ok(reader.next());
  t.ok(reader.next(), 'the artifact row is read, not refused');
  t.equal(reader.time, MIDNIGHT + 43002_632812);
});

t.test('real samples with times printed as 17-digit doubles read exactly like the originals', async (t) => {
  const samples = findLobsterSamples(lobsterDataDir());
  if (samples.length === 0) {
    const why = `LOBSTER samples not found in ${lobsterDataDir()} (set BOOKCAST_LOBSTER_DIR to the folder holding them)`;
    if (process.env.CI === 'true') t.fail(`${why}; CI=true requires them`);
    else t.plan(0, why);
    return;
  }
  const original = samples[0];
  const lines = readFileSync(original, 'latin1').split('\n').filter((line) => line !== '');
  let artifacts = 0;
  const rewritten = lines.map((line) => {
    const comma = line.indexOf(',');
    // What MATLAB's or Python's repr of the parsed double writes: 17 significant digits.
    const time = Number(line.slice(0, comma)).toPrecision(17);
    if (time.length - time.indexOf('.') - 1 > 9) artifacts++;
    return time + line.slice(comma);
  });
  const dir = t.testdir({});
  const path = join(dir, 'm.csv');
  writeFileSync(path, rewritten.join('\n') + '\n');
  const expected = new LobsterMessageReader(original, MIDNIGHT);
  const actual = new LobsterMessageReader(path, MIDNIGHT);
  let differing = 0;
  let rows = 0;
  while (expected.next()) {
    if (!actual.next()) {
      t.fail(`the rewritten file ends at line ${rows}`);
      break;
    }
    rows++;
    if (actual.time !== expected.time && differing++ === 0) t.fail(`line ${expected.line}: ${actual.time} != ${expected.time}`);
  }
  t.notOk(actual.next(), 'same number of rows');
  t.equal(differing, 0, `${rows} rows, every time identical`);
  t.ok(artifacts > rows / 2, `${artifacts} of ${rows} times carry more than nine decimals`);
});

t.test('readers parse rows in place, with or without a final newline or CRs', async (t) => {
  const dir = t.testdir({
    'm.csv': '34200.004241176,1,16113575,18,5853300,1\r\n36000,7,0,0,-1,-1\r\n34201.1,5,0,1,5795150,-1',
    'o.csv': '5859400,200,5853300,18\n9999999999,0,-9999999999,0\n',
  });
  const messages = new LobsterMessageReader(join(dir, 'm.csv'), MIDNIGHT);
  t.ok(messages.next());
  t.same(
    [messages.line, messages.time, messages.type, messages.orderId, messages.size, messages.price, messages.direction],
    [1, MIDNIGHT + 34200_004241, 1, 16113575, 18, 5853300, 1],
  );
  t.ok(messages.next());
  t.same([messages.type, messages.price, messages.direction], [7, -1, -1]);
  t.ok(messages.next());
  t.same([messages.line, messages.type, messages.price, messages.direction], [3, 5, 5795150, -1]);
  t.notOk(messages.next());

  const rows = new LobsterBookReader(join(dir, 'o.csv'), 1);
  t.ok(rows.next());
  t.same([...rows.row], [5859400, 200, 5853300, 18]);
  t.ok(rows.next());
  t.same([...rows.row], [9999999999, 0, -9999999999, 0]);
  t.notOk(rows.next());
  t.equal(rows.line, 2);
});

t.test('bad rows are reported with their line', async (t) => {
  const cases: [string, RegExp][] = [
    ['34200.1,1,1,100,5853300\n', /:2: expected 6/],
    ['34200.1,1,1,100,5853300,1,9\n', /:2: expected 6/],
    ['34200.1,9,1,100,5853300,1\n', /:2: unknown message type 9/],
    ['34200.1,1,1,100,5853300,0\n', /:2: direction 0/],
    ['34200.1,1,1,1x0,5853300,1\n', /:2: expected 6/],
    ['\n', /:2: time/],
  ];
  const dir = t.testdir({});
  for (const [second, message] of cases) {
    const path = join(dir, 'm.csv');
    writeFileSync(path, '34200.0,1,1,100,5853300,1\n' + second);
    const reader = new LobsterMessageReader(path, MIDNIGHT);
    t.ok(reader.next());
    t.throws(() => reader.next(), { code: 'LOBSTER_BAD_ROW', message }, JSON.stringify(second));
  }
  const path = join(dir, 'o.csv');
  writeFileSync(path, '1,2,3,4\n1,2,3\n');
  const rows = new LobsterBookReader(path, 1);
  t.ok(rows.next());
  t.throws(() => rows.next(), { code: 'LOBSTER_BAD_ROW', message: /o\.csv:2: expected 4 numeric fields/ });
  writeFileSync(path, '1,2,3,4,5\n');
  t.throws(() => new LobsterBookReader(path, 1).next(), { code: 'LOBSTER_BAD_ROW', message: /more than 4/ });
  t.throws(() => new LobsterBookReader(join(dir, 'none.csv'), 1), { code: 'LOBSTER_FILE_NOT_FOUND' });
});

t.test('samples are found one folder deep; the data folder honours BOOKCAST_LOBSTER_DIR', async (t) => {
  const dir = t.testdir({ a: {}, b: {} });
  writeLobsterPair(join(dir, 'b'), 1, [], []);
  writeLobsterPair(join(dir, 'a'), 10, [], []);
  t.same(findLobsterSamples(dir), [
    join(dir, 'a', `${FIXTURE_PREFIX}_message_10.csv`),
    join(dir, 'b', `${FIXTURE_PREFIX}_message_1.csv`),
  ]);
  t.same(findLobsterSamples(join(dir, 'absent')), []);
  const saved = process.env.BOOKCAST_LOBSTER_DIR;
  t.teardown(() => {
    if (saved === undefined) delete process.env.BOOKCAST_LOBSTER_DIR;
    else process.env.BOOKCAST_LOBSTER_DIR = saved;
  });
  process.env.BOOKCAST_LOBSTER_DIR = dir;
  t.equal(lobsterDataDir(), dir);
  delete process.env.BOOKCAST_LOBSTER_DIR;
  t.match(lobsterDataDir(), /[\\/]shared[\\/]data[\\/]lobster$/);
});
