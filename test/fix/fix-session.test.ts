import t from 'tap';
import { startTestServer, TestServer, waitFor } from '../helpers/test-server';
import { encodeFix, RawFixClient } from '../helpers/fix-raw';
import { fixSessionsFile } from '../helpers/fix-sessions';

/**
 * The FIX session layer over a raw socket: logon and its refusals, sequence numbers kept across
 * connections, resends and gap fills, and every kind of bad input, each answered the FIX way
 * without disturbing another session.
 */
const PASSWORD = 'correct-horse-battery';
const sessions = fixSessionsFile([
  { senderCompId: 'ALPHA', password: PASSWORD },
  { senderCompId: 'BRAVO', password: PASSWORD },
  { senderCompId: 'CHARLIE', password: PASSWORD },
  { senderCompId: 'DELTA', password: PASSWORD },
  { senderCompId: 'ECHO', password: PASSWORD },
  { senderCompId: 'LIMITED', password: PASSWORD, permissions: ['l1'] },
]);

let srv: TestServer;
let port: number;

t.before(async () => {
  srv = await startTestServer(['--rate', '2000', '--workers', '1', '--symbols', 'BTC/USD,ETH/USD', '--fix-port', '0', '--fix-sessions', sessions, '--fix-max-messages-per-second', '40', '--fix-store-messages', '8']);
  port = srv.server.fixPort!;
});
t.teardown(() => srv.server.stop());

async function loggedOn(sender: string, extra: [number, string | number][] = [[141, 'Y']]): Promise<RawFixClient> {
  const c = await RawFixClient.connect(port, sender);
  c.logon(PASSWORD, extra);
  await c.expect(`${sender}'s Logon answer`, (m) => m.type === 'A');
  return c;
}

/** A TestRequest answered proves the session alive and in sequence. */
async function alive(c: RawFixClient, id: string): Promise<void> {
  const from = c.received.length;
  c.send('1', [[112, id]]);
  await c.expect(`Heartbeat ${id}`, (m) => m.type === '0' && m.get(112) === id, from);
}

t.test('logon: answered with HeartBtInt and ResetSeqNumFlag; wrong password and unknown CompID are logged out', async (t) => {
  const c = await loggedOn('ALPHA');
  const logon = c.received.find((m) => m.type === 'A')!;
  t.equal(logon.get(108), '30');
  t.equal(logon.get(141), 'Y');
  t.equal(logon.seq, 1);
  t.equal(logon.get(49), 'BOOKCAST');
  t.equal(logon.get(56), 'ALPHA');
  await alive(c, 'a1');

  for (const [sender, password] of [['ALPHA', 'wrong-password!'], ['NOBODY', PASSWORD]]) {
    const bad = await RawFixClient.connect(port, sender);
    bad.logon(password, [[141, 'Y']]);
    const out = await bad.expect('a Logout', (m) => m.type === '5');
    t.match(out.get(58), /^FIX_(LOGON_REFUSED|ALREADY_LOGGED_ON): /, `${sender}: ${out.get(58)}`);
    await bad.waitClosed('the refused connection to close');
  }
  // A wrong password for a live CompID does not touch the live session.
  await alive(c, 'a2');

  const first = await RawFixClient.connect(port, 'BRAVO');
  first.write(encodeFix('0', [[49, 'BRAVO'], [56, 'BOOKCAST'], [34, 1], [52, '20261202-00:00:00.000']]));
  await first.waitClosed('a connection whose first message is not a Logon to be dropped');
  t.equal(first.received.length, 0, 'dropped without an answer');
  c.close();
});

t.test('a second Logon: from another connection it is refused, on the live one rejected; the live session carries on', async (t) => {
  const c = await loggedOn('BRAVO');
  const other = await RawFixClient.connect(port, 'BRAVO');
  other.logon(PASSWORD);
  const out = await other.expect('the second connection to be logged out', (m) => m.type === '5');
  t.match(out.get(58), /^FIX_ALREADY_LOGGED_ON: /);
  await other.waitClosed('the second connection to close');
  await alive(c, 'b1');
  const from = c.received.length;
  c.logon(PASSWORD);
  const reject = await c.expect('a Reject of the repeated Logon', (m) => m.type === '3', from);
  t.equal(reject.get(372), 'A');
  t.match(reject.get(58), /FIX_ALREADY_LOGGED_ON/);
  await alive(c, 'b2');
  c.close();
});

t.test('logout then logon keeps both sequences; ResetSeqNumFlag starts again at 1', async (t) => {
  const c = await loggedOn('CHARLIE');
  await alive(c, 'c1');
  c.send('5', []);
  await c.expect('the Logout answer', (m) => m.type === '5');
  await c.waitClosed('the connection to end after the Logout');
  const lastOut = Math.max(...c.received.map((m) => m.seq));
  const next = c.nextSeq;

  const again = await RawFixClient.connect(port, 'CHARLIE');
  again.nextSeq = next;
  again.logon(PASSWORD);
  const logon = await again.expect('the Logon answer', (m) => m.type === 'A');
  t.equal(logon.seq, lastOut + 1, 'our numbering continues');
  t.equal(logon.get(141), undefined);
  await alive(again, 'c2');
  t.notOk(again.received.some((m) => m.type === '2'), 'no ResendRequest: the client continued its numbering too');
  again.send('5', []);
  await again.waitClosed('the second connection to end');

  const low = await RawFixClient.connect(port, 'CHARLIE');
  low.nextSeq = 1;
  low.logon(PASSWORD);
  const out = await low.expect('a Logout for a Logon numbered too low', (m) => m.type === '5');
  t.match(out.get(58), /^FIX_SEQUENCE_TOO_LOW: MsgSeqNum too low, expecting \d+ but received 1/);
  await low.waitClosed('the connection to end');

  const reset = await loggedOn('CHARLIE');
  t.equal(reset.received[0].seq, 1, 'ResetSeqNumFlag: our Logon is 1 again');
  await alive(reset, 'c3');
  reset.close();
});

t.test('ResendRequest after a dropped connection: stored messages again with PossDupFlag, the rest gap-filled', async (t) => {
  const c = await loggedOn('DELTA');
  // Application messages to resend: two SecurityLists.
  c.send('x', [[320, 'sl-1'], [559, 4]]);
  c.send('x', [[320, 'sl-2'], [559, 4]]);
  await c.expect('two SecurityLists', (m) => m.type === 'y' && m.get(320) === 'sl-2');
  await alive(c, 'd1');
  const sent = c.received.map((m) => ({ seq: m.seq, type: m.type, time: m.get(52) }));
  c.close(); // dropped, no Logout
  await waitFor('the server to notice the drop', async () => {
    const probe = await RawFixClient.connect(port, 'DELTA');
    probe.nextSeq = c.nextSeq;
    probe.logon(PASSWORD);
    await waitFor('an answer', () => probe.received.length > 0 || probe.closed);
    const ok = probe.received[0]?.type === 'A';
    if (ok) {
      const from = probe.received.length;
      probe.send('2', [[7, 1], [16, 0]]);
      await probe.expect('the resend to reach the Heartbeat of d1', (m) => m.get(43) === 'Y' && m.seq === sent[sent.length - 1].seq, from);
      const resent = probe.received.slice(from).filter((m) => m.get(43) === 'Y');
      // Logon (1): admin → gap fill to 2; the two SecurityLists as they were; the Heartbeat → gap fill.
      const lists = resent.filter((m) => m.type === 'y');
      t.same(lists.map((m) => m.get(320)), ['sl-1', 'sl-2'], 'both SecurityLists resent');
      for (const m of lists) {
        const orig = sent.find((s) => s.seq === m.seq)!;
        t.equal(m.get(122), orig.time, `OrigSendingTime of ${m.seq} is its first SendingTime`);
      }
      const fills = resent.filter((m) => m.type === '4');
      t.ok(fills.length >= 1 && fills.every((m) => m.get(123) === 'Y'), 'admin messages are gap-filled');
      t.equal(fills[0].seq, 1);
      t.equal(fills[0].get(36), String(lists[0].seq));
      probe.close();
    } else {
      probe.close();
    }
    return ok;
  });
});

t.test('gap fill: messages older than the store (8 kept) are one SequenceReset-GapFill', async (t) => {
  const c = await loggedOn('ECHO');
  for (let i = 0; i < 12; i++) c.send('x', [[320, `s${i}`], [559, 0], [55, 'BTC/USD']]);
  await c.expect('the 12th SecurityList', (m) => m.type === 'y' && m.get(320) === 's11');
  const from = c.received.length;
  c.send('2', [[7, 1], [16, 0]]);
  const last = c.received.filter((m) => m.type === 'y').pop()!;
  await c.expect('the last SecurityList resent', (m) => m.get(43) === 'Y' && m.seq === last.seq, from);
  const resent = c.received.slice(from).filter((m) => m.get(43) === 'Y');
  t.equal(resent[0].type, '4', 'first a gap fill');
  t.equal(resent[0].seq, 1);
  t.equal(resent[0].get(123), 'Y');
  const kept = resent.filter((m) => m.type === 'y');
  t.equal(kept.length, 8, 'the 8 kept are resent');
  t.equal(resent[0].get(36), String(kept[0].seq), 'the gap fill ends where the kept ones begin');
  c.close();
});

t.test('bad input: each gets its FIX answer and the process and other sessions carry on', async (t) => {
  const witness = await loggedOn('ALPHA');

  await t.test('wrong CheckSum: ignored, the next message finds a gap and gets a ResendRequest', async (t) => {
    const c = await loggedOn('BRAVO');
    const good = encodeFix('1', [[49, 'BRAVO'], [56, 'BOOKCAST'], [34, c.nextSeq++], [52, '20261202-00:00:00.000'], [112, 'x']]);
    c.write(good.replace(/10=\d{3}\x01$/, (m) => (m === '10=000\x01' ? '10=001\x01' : '10=000\x01')));
    const from = c.received.length;
    c.send('1', [[112, 'after']]);
    const rr = await c.expect('a ResendRequest', (m) => m.type === '2', from);
    t.equal(rr.get(7), String(c.nextSeq - 2), 'from the number of the garbled message');
    t.equal(rr.get(16), '0');
    t.notOk(c.received.some((m) => m.get(112) === 'x'), 'the garbled TestRequest was not answered');
    c.close();
  });

  await t.test('wrong BodyLength and garbage bytes: skipped up to the next message', async () => {
    const c = await loggedOn('CHARLIE', [[141, 'Y']]);
    const seq = c.nextSeq++;
    const bad = encodeFix('1', [[49, 'CHARLIE'], [56, 'BOOKCAST'], [34, seq], [52, '20261202-00:00:00.000'], [112, 'bad']]).replace(/9=(\d+)/, (_m, n) => `9=${Number(n) - 3}`);
    c.write(bad);
    c.write(new Uint8Array([0xff, 0x00, 0x13, 0x37, 0x38, 0x3d]));
    c.write('GET / HTTP/1.1\r\n\r\n');
    const from = c.received.length;
    c.nextSeq = seq; // the skipped message is sent again, as a resend would
    c.send('1', [[112, 'good']]);
    await c.expect('the good TestRequest answered', (m) => m.type === '0' && m.get(112) === 'good', from);
    c.close();
  });

  await t.test('unknown MsgType and a missing required tag: Reject with the reason', async (t) => {
    const c = await loggedOn('DELTA');
    const from = c.received.length;
    const s1 = c.send('ZZ', [[58, 'what']]);
    const r1 = await c.expect('Reject of MsgType ZZ', (m) => m.type === '3' && m.get(45) === String(s1), from);
    t.equal(r1.get(373), '11');
    t.equal(r1.get(372), 'ZZ');
    const s2 = c.send('1', []);
    const r2 = await c.expect('Reject of a TestRequest without TestReqID', (m) => m.type === '3' && m.get(45) === String(s2), from);
    t.equal(r2.get(373), '1');
    t.equal(r2.get(371), '112');
    const s3 = c.send('V', [[263, 1], [264, 10], [267, 2], [269, 0], [269, 1], [146, 1], [55, 'BTC/USD']]);
    const r3 = await c.expect('Reject of a MarketDataRequest without MDReqID', (m) => m.type === '3' && m.get(45) === String(s3), from);
    t.equal(r3.get(371), '262');
    await alive(c, 'd');
    c.close();
  });

  await t.test('MsgSeqNum too high: ResendRequest; too low without PossDup: Logout; too low with PossDup: ignored', async (t) => {
    const c = await loggedOn('ECHO');
    const expected = c.nextSeq;
    let from = c.received.length;
    c.send('1', [[112, 'high']], { seq: expected + 5 });
    const rr = await c.expect('a ResendRequest', (m) => m.type === '2', from);
    t.equal(rr.get(7), String(expected));
    // Fill the gap as the peer would, then carry on.
    c.send('4', [[123, 'Y'], [36, expected + 6]], { seq: expected, header: [[43, 'Y'], [122, '20261202-00:00:00.000']] });
    c.nextSeq = expected + 6;
    await alive(c, 'e1');
    from = c.received.length;
    c.send('1', [[112, 'dup']], { seq: expected + 1, header: [[43, 'Y'], [122, '20261202-00:00:00.000']] });
    await alive(c, 'e2');
    t.notOk(c.received.slice(from).some((m) => m.get(112) === 'dup'), 'a PossDup below the expected number is ignored');
    c.send('1', [[112, 'low']], { seq: 2 });
    const out = await c.expect('a Logout', (m) => m.type === '5', from);
    t.match(out.get(58), /^FIX_SEQUENCE_TOO_LOW: /);
    await c.waitClosed('the connection to end');
  });

  await t.test('an oversize message: Logout and close', async (t) => {
    const c = await loggedOn('BRAVO');
    c.send('1', [[112, 'x'.repeat(20000)]]);
    const out = await c.expect('a Logout', (m) => m.type === '5');
    t.match(out.get(58), /^FIX_MESSAGE_TOO_LARGE: /);
    await c.waitClosed('the connection to end');
  });

  await t.test('a BodyLength past the limit: Logout before its bytes arrive', async (t) => {
    const c = await loggedOn('BRAVO');
    c.write('8=FIX.4.4\x019=' + '1'.repeat(5));
    c.write('2'.repeat(3));
    const out = await c.expect('a Logout', (m) => m.type === '5');
    t.match(out.get(58), /^FIX_MESSAGE_TOO_LARGE: /);
    await c.waitClosed('the connection to end');
  });

  await t.test('a flood: Logout past the message rate', async (t) => {
    const c = await loggedOn('DELTA');
    for (let i = 0; i < 200; i++) c.send('0', []);
    const out = await c.expect('a Logout', (m) => m.type === '5');
    t.match(out.get(58), /^FIX_RATE_LIMITED: /);
    await c.waitClosed('the connection to end');
  });

  await alive(witness, 'still-here');
  const health = await srv.get('/api/v1/health');
  t.equal(health.status, 200, 'the server still answers');
  witness.close();
});

t.test('market data rejects: unknown symbol, depth, duplicate MDReqID, permission, entry types', async (t) => {
  const c = await loggedOn('LIMITED');
  const request = (id: string, fields: [number, string | number][]) => c.send('V', [[262, id], ...fields]);
  const rejectOf = (id: string) => c.expect(`Y for ${id}`, (m) => m.type === 'Y' && m.get(262) === id);
  const book = (symbol: string, depth: number): [number, string | number][] => [[263, 1], [264, depth], [265, 1], [267, 2], [269, 0], [269, 1], [146, 1], [55, symbol]];

  request('unknown', [[263, 1], [264, 0], [267, 1], [269, 7], [146, 1], [55, 'DOGE/USD']]);
  t.equal((await rejectOf('unknown')).get(281), '0');
  request('depth', [[263, 1], [264, 7], [267, 1], [269, 7], [146, 1], [55, 'BTC/USD']]);
  t.equal((await rejectOf('depth')).get(281), '5');
  request('perm', book('BTC/USD', 10));
  const perm = await rejectOf('perm');
  t.equal(perm.get(281), '3');
  t.match(perm.get(58), /^FIX_PERMISSION_DENIED: /);
  request('half', [[263, 1], [264, 10], [267, 1], [269, 0], [146, 1], [55, 'BTC/USD']]);
  t.equal((await rejectOf('half')).get(281), '8');
  request('stats', [[263, 1], [264, 0], [267, 2], [269, 7], [269, 8], [146, 1], [55, 'BTC/USD']]);
  const w = await c.expect('the ticker snapshot', (m) => m.type === 'W' && m.get(262) === 'stats');
  t.equal(w.get(55), 'BTC/USD');
  t.ok(Number(w.get(83)) > 0, 'W carries the sequence in RptSeq');
  request('stats', [[263, 1], [264, 0], [267, 1], [269, 4], [146, 1], [55, 'ETH/USD']]);
  t.equal((await rejectOf('stats')).get(281), '1', 'a duplicate MDReqID');
  c.close();
});
