import t from 'tap';
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fixBody, field } from '../../src/fix/fix-codec';
import { FixSessionStore, SEQ_RESERVE_BLOCK } from '../../src/fix/fix-session-store';
import { waitFor } from '../helpers/test-server';

/**
 * The session store's files on their own (the server tests restart a real process around them):
 * a record torn by a crash is cut off and appends continue after it; numbers in use are always
 * below the reservation on disk; a reset empties the log.
 */
const TIME = '20261202-12:00:00.000';

function send(store: FixSessionStore, id: string): number {
  return store.claim('y', fixBody(field(320, id) + field(560, 0)), TIME);
}

function onDisk(dir: string): { nextOut: number; nextIn: number } {
  return JSON.parse(readFileSync(path.join(dir, 'S.seq'), 'latin1')) as { nextOut: number; nextIn: number };
}

t.test('a torn last record is cut off; the messages before it and after it are read back', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-fix-store-'));
  // 7 kept: slots of 1, 2 and the first number after the crash differ.
  const a = new FixSessionStore(dir, 'S', 7);
  for (const id of ['m1', 'm2']) send(a, id);
  a.claim('0', null, TIME); // an admin message: a number, no record
  await waitFor('the batch to be written', () => existsSync(path.join(dir, 'S.0.msgs')) && readFileSync(path.join(dir, 'S.0.msgs'), 'latin1').includes('320=m2'));
  t.ok(onDisk(dir).nextOut >= 4, 'the numbers used are reserved on disk');
  // A crash in the middle of a record (then the process is gone: no release()).
  appendFileSync(path.join(dir, 'S.0.msgs'), '4 y 20261202-12:00:00.000 30\n320=m3');

  const b = new FixSessionStore(dir, 'S', 7);
  t.equal(b.nextOut, 1 + SEQ_RESERVE_BLOCK, 'after a crash, numbering resumes above the reservation');
  t.same([1, 2, 3].map((seq) => b.stored(seq)?.body.bytes.length ?? null), [13, 13, null], 'both logged messages back, the admin number not');
  t.equal(Buffer.from(b.stored(2)!.body.bytes).toString('latin1'), '320=m2\x01560=0\x01');
  t.equal(b.stored(2)!.sendingTime, TIME);
  const seq = send(b, 'm4');
  b.release();
  const c = new FixSessionStore(dir, 'S', 7);
  t.equal(c.nextOut, seq + 1, 'after a release, numbering resumes exactly');
  t.ok(c.stored(1) !== undefined && c.stored(seq) !== undefined, 'the records before the torn one and the one appended after it are read');
});

t.test('the two segments hold the last `capacity` messages at least, twice as many at most', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-fix-store-'));
  const a = new FixSessionStore(dir, 'S', 3);
  for (let i = 0; i < 10; i++) {
    send(a, `m${i}`);
    a.release(); // one batch per message: every switch of segment happens
    const records = ['S.0.msgs', 'S.1.msgs'].flatMap((f) => {
      try {
        return readFileSync(path.join(dir, f), 'latin1').match(/^\d+ y /gm) ?? [];
      } catch {
        return [];
      }
    });
    t.ok(records.length >= Math.min(i + 1, 3) && records.length <= 6, `after ${i + 1}: ${records.length} records on disk`);
  }
  const b = new FixSessionStore(dir, 'S', 3);
  t.same([8, 9, 10].map((seq) => b.stored(seq) !== undefined), [true, true, true], 'the last three are read back');
  t.equal(b.stored(7), undefined, 'the fourth-last is beyond the bound');
});

t.test('a reset empties the log and writes 1 both ways', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-fix-store-'));
  const a = new FixSessionStore(dir, 'S', 4);
  send(a, 'old');
  a.release();
  a.reset();
  t.same(onDisk(dir), { nextOut: 1, nextIn: 1 });
  const b = new FixSessionStore(dir, 'S', 4);
  t.equal(b.stored(1), undefined, 'nothing from before the reset can be resent');
  t.equal(b.nextOut, 1);
});
