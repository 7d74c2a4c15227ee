import t from 'tap';
import { RawFixClient } from '../helpers/fix-raw';
import { fixSessionsFile } from '../helpers/fix-sessions';
import { startTestServer, waitFor } from '../helpers/test-server';

/**
 * The WebSocket slow-consumer ladder applies to FIX sessions: a session that stops reading is
 * parked with a News (B) SLOW_CONSUMER notice, and once it reads again its book restarts from a
 * fresh W (same MDReqID) whose RptSeq is past what it had.
 */
t.test('a FIX session that stops reading is parked with a notice and resumes from a fresh snapshot', async (t) => {
  const sessions = fixSessionsFile([{ senderCompId: 'SLOW', password: 'slow-password' }]);
  const srv = await startTestServer(['--rate', '5000', '--workers', '1', '--symbols', 'BTC/USD', '--fix-port', '0', '--fix-sessions', sessions, '--soft-backpressure', '65536', '--max-backpressure', String(1 << 30)]);
  t.teardown(() => srv.server.stop());
  const c = await RawFixClient.connect(srv.server.fixPort!, 'SLOW');
  c.logon('slow-password', [[141, 'Y']]);
  await c.expect('the Logon answer', (m) => m.type === 'A');
  // The book alone: with trades too, a park long enough on a loaded machine misses more trades
  // than the server keeps, and the ladder then closes the session (a tape with a hole is wrong);
  // that rung is the WebSocket slow-consumer tests' to check.
  c.send('V', [[262, 'deep'], [263, 1], [264, 500], [265, 1], [267, 2], [269, 0], [269, 1], [146, 1], [55, 'BTC/USD']]);
  const first = await c.expect('the first snapshot', (m) => m.type === 'W');
  c.socket.pause();
  await waitFor('the hub to park the session', () => srv.server.hub.slowConsumerResyncs > 0, 240_000);
  c.socket.resume();
  const notice = await c.expect('the SLOW_CONSUMER notice', (m) => m.type === 'B' && m.get(148) === 'SLOW_CONSUMER');
  const after = c.received.indexOf(notice);
  const again = await c.expect('a fresh snapshot after the notice', (m) => m.type === 'W', after);
  t.equal(again.get(262), 'deep', 'under the same MDReqID');
  t.ok(Number(again.get(83)) > Number(first.get(83)), 'past the first snapshot');
  t.equal(srv.server.hub.slowConsumerCloses, 0, 'parked, not closed');
  c.close();
});
