import t, { type Test } from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { waitFor } from '../helpers/test-server';
import { RawFixClient, Received } from '../helpers/fix-raw';
import { fixSessionsFile } from '../helpers/fix-sessions';
import { ServerProcess, startServerProcess, stopServerProcess } from '../helpers/server-process';
import { SEQ_RESERVE_BLOCK } from '../../src/fix/fix-session-store';

/**
 * The FIX session store on disk: a real server process is stopped (SIGTERM) or killed (SIGKILL)
 * and started again on the same --data-dir; a raw-socket counterparty then continues its
 * sequence and asks for a resend, which brings back the messages sent before the restart.
 */
const PASSWORD = 'correct-horse-battery';
const STORE = 8;
const sessions = fixSessionsFile([
  { senderCompId: 'KEEP', password: PASSWORD },
  { senderCompId: 'CRASH', password: PASSWORD },
  { senderCompId: 'BOUND', password: PASSWORD },
]);
const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-fix-store-'));
const args = ['--data-dir', dataDir, '--workers', '1', '--symbols', 'BTC/USD,ETH/USD', '--rate', '200', '--fix-port', '0', '--fix-sessions', sessions, '--fix-store-messages', String(STORE), '--fix-max-messages-per-second', '1000'];

let server: ServerProcess | null = null;
t.teardown(async () => {
  if (server !== null) await stopServerProcess(server, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** Logs on continuing the client's numbering; a ResendRequest from the server is gap-filled. */
function fixPort(): number {
  const m = /FIX 4\.4 \(market data\):\s+[^:\s]+:(\d+)/.exec(server!.output());
  return m === null ? 0 : Number(m[1]);
}

async function start(): Promise<number> {
  server = await startServerProcess(args);
  await waitFor('the FIX port to be printed', () => fixPort() > 0);
  return fixPort();
}

/** Logs on continuing the client's numbering. */
async function logon(port: number, sender: string, nextSeq: number, reset = false): Promise<{ c: RawFixClient; logon: Received }> {
  const c = await RawFixClient.connect(port, sender);
  c.nextSeq = nextSeq;
  c.logon(PASSWORD, reset ? [[141, 'Y']] : []);
  const answer = await c.expect(`${sender}'s Logon answer`, (m) => m.type === 'A' || m.type === '5');
  if (answer.type !== 'A') throw new Error(`logon refused: ${answer.get(58)}`);
  await alive(c, `${sender}-logon`, c.received.indexOf(answer));
  return { c, logon: answer };
}

/**
 * A TestRequest answered. The server writes its incoming number lazily: after a crash it asks
 * for what it lost with a ResendRequest, which is gap-filled (nothing of ours needs resending)
 * before the TestRequest is sent again.
 */
async function alive(c: RawFixClient, id: string, from = c.received.length): Promise<void> {
  for (;;) {
    c.send('1', [[112, id]]);
    const m = await c.expect(`Heartbeat ${id} (or a ResendRequest)`, (m) => (m.type === '0' && m.get(112) === id) || m.type === '2', from);
    if (m.type === '0') return;
    from = c.received.indexOf(m) + 1;
    c.send('4', [[123, 'Y'], [36, c.nextSeq]], { seq: Number(m.get(7)), header: [[43, 'Y'], [122, '20261202-00:00:00.000']] });
  }
}

async function securityLists(c: RawFixClient, prefix: string, n: number): Promise<Received[]> {
  const from = c.received.length;
  for (let i = 0; i < n; i++) c.send('x', [[320, `${prefix}-${i}`], [559, 0], [55, i % 2 === 0 ? 'BTC/USD' : 'ETH/USD']]);
  await c.expect(`SecurityList ${prefix}-${n - 1}`, (m) => m.type === 'y' && m.get(320) === `${prefix}-${n - 1}`, from);
  // A later exchange: the store's batch written in the turn that sent the lists is on disk.
  await alive(c, `${prefix}-done`);
  return c.received.slice(from).filter((m) => m.type === 'y');
}

/** Asks for everything from 1 and returns what came back up to `upTo`, checked to cover 1..upTo. */
async function resendAll(t: Test, c: RawFixClient, upTo: number): Promise<Received[]> {
  const from = c.received.length;
  c.send('2', [[7, 1], [16, 0]]);
  let resent: Received[] = [];
  await waitFor(`the resend to cover 1..${upTo}`, () => {
    resent = c.received.slice(from).filter((m) => m.get(43) === 'Y');
    let next = 1;
    for (const m of resent) {
      if (m.seq !== next) return false;
      next = m.type === '4' ? Number(m.get(36)) : m.seq + 1;
    }
    return next > upTo;
  });
  t.ok(resent.every((m) => m.type === '4' ? m.get(123) === 'Y' : m.get(122) !== undefined), 'gap fills carry 123=Y, resent messages OrigSendingTime');
  return resent;
}

function bodyOf(m: Received): string {
  // The fields after the header (49, 56, 34, 52, 43, 122) and before CheckSum.
  return m.fields.filter(([tag]) => ![8, 9, 10, 34, 43, 49, 52, 56, 122].includes(tag)).map(([tag, v]) => `${tag}=${v}`).join('|');
}

t.test('a clean stop and start: numbering continues exactly and a resend returns the messages sent before', async (t) => {
  const port = await start();
  const { c } = await logon(port, 'KEEP', 1, true);
  const lists = await securityLists(c, 'k', 3);
  c.send('5', []);
  await c.expect('the Logout answer', (m) => m.type === '5');
  await c.waitClosed('the connection to end');
  const lastOut = Math.max(...c.received.map((m) => m.seq));

  await stopServerProcess(server!, 'SIGTERM');
  const port2 = await start();
  const again = await logon(port2, 'KEEP', c.nextSeq);
  t.equal(again.logon.seq, lastOut + 1, 'after a clean stop our numbering continues with no gap');
  const resent = await resendAll(t, again.c, lastOut);
  const back = resent.filter((m) => m.type === 'y');
  t.same(back.map((m) => m.seq), lists.map((m) => m.seq), 'the three SecurityLists come back under their numbers');
  for (const m of back) {
    const orig = lists.find((l) => l.seq === m.seq)!;
    t.equal(m.get(122), orig.get(52), `OrigSendingTime of ${m.seq} is its first SendingTime`);
    t.equal(bodyOf(m), bodyOf(orig), `the body of ${m.seq} is the one sent`);
  }
  again.c.close();
});

t.test('kill -9: no number is reused, the unused reservation is gap-filled, the sent messages come back', async (t) => {
  const port = fixPort();
  const { c } = await logon(port, 'CRASH', 1, true);
  const lists = await securityLists(c, 'c', 4);
  const lastOut = Math.max(...c.received.map((m) => m.seq));

  await stopServerProcess(server!, 'SIGKILL');
  await c.waitClosed('the connection to drop with the process');
  const port2 = await start();
  const again = await logon(port2, 'CRASH', c.nextSeq);
  t.ok(again.logon.seq > lastOut, `the Logon after the crash (${again.logon.seq}) is above every number sent before it (${lastOut})`);
  t.ok(again.logon.seq <= lastOut + 1 + SEQ_RESERVE_BLOCK, 'at most one reservation block is skipped');
  const resent = await resendAll(t, again.c, again.logon.seq - 1);
  const back = resent.filter((m) => m.type === 'y');
  t.same(back.map((m) => m.seq), lists.map((m) => m.seq), 'every SecurityList sent before the crash comes back');
  for (const m of back) t.equal(bodyOf(m), bodyOf(lists.find((l) => l.seq === m.seq)!), `the body of ${m.seq} is the one sent`);
  const fill = resent.find((m) => m.seq === back[back.length - 1].seq + 1)!;
  t.equal(fill.type, '4', 'after the last SecurityList: a gap fill');
  t.ok(Number(fill.get(36)) >= again.logon.seq, 'the skipped numbers up to the new Logon are one gap fill (admin messages and the unused reservation)');
  again.c.close();
});

t.test('the bound: only the last --fix-store-messages survive a restart, the log stays compacted', async (t) => {
  const port = fixPort();
  const { c } = await logon(port, 'BOUND', 1, true);
  const lists = await securityLists(c, 'b', 3 * STORE);
  c.send('5', []);
  await c.waitClosed('the connection to end after the Logout');
  const lastOut = Math.max(...c.received.map((m) => m.seq));
  const logs = readdirSync(path.join(dataDir, 'fix')).filter((f) => /BOUND\.[01]\.msgs$/.test(f));
  t.equal(logs.length, 2, 'both log segments were used');
  const records = logs.flatMap((f) => readFileSync(path.join(dataDir, 'fix', f), 'latin1').match(/^\d+ \S+ \S+ \d+$/gm) ?? []);
  t.ok(records.length >= STORE && records.length <= 2 * STORE, `the log holds ${records.length} records: at least the bound, at most twice it`);

  await stopServerProcess(server!, 'SIGTERM');
  const port2 = await start();
  const again = await logon(port2, 'BOUND', c.nextSeq);
  const resent = await resendAll(t, again.c, lastOut);
  const back = resent.filter((m) => m.type === 'y');
  t.same(back.map((m) => m.get(320)), lists.slice(-STORE).map((m) => m.get(320)), `the last ${STORE} SecurityLists come back`);
  t.equal(resent[0].type, '4', 'what is older is gap-filled');
  t.equal(resent[0].get(36), String(back[0].seq));
  again.c.close();
});
