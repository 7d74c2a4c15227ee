import t from 'tap';
import { connectRecorded } from '../helpers/client-recorder';
import { startTestServer, waitFor } from '../helpers/test-server';
import { HEARTBEAT_TICK_MS, HeartbeatRounds } from '../../src/distribution/heartbeat-rounds';
import { Session, SessionDialect, SessionTransport } from '../../src/distribution/session';

const PERIOD_MS = 250;

t.test('heartbeats: one per --heartbeat-ms to each connection, however many there are', async (t) => {
  const srv = await startTestServer(['--rate', '500', '--workers', '1', '--heartbeat-ms', String(PERIOD_MS)]);
  t.teardown(() => srv.server.stop());

  // A lone connection: it is the first of every round.
  const lone = await connectRecorded(srv);
  lone.client.subscribe({ channels: ['ticker', 'trades'], symbols: ['BTC/USD', 'ETH/USD'] });
  await waitFor('six heartbeats', () => lone.heartbeats.length >= 6);
  // Each heartbeat is stamped when it is sent; the next round starts a whole period after the
  // previous one started, so load can only make the gaps longer.
  const stamps = lone.heartbeats.map((m) => Date.parse(m.timestamp) * 1000 + Number(m.timestamp.slice(23, 26)));
  const gaps = stamps.slice(1).map((s, i) => s - stamps[i]);
  t.ok(gaps.length >= 5);
  t.ok(gaps.every((g) => g >= PERIOD_MS * 1000), `gaps of at least ${PERIOD_MS} ms: ${gaps.join(', ')} µs`);

  // Twenty more: every one is served in each round.
  const others = await Promise.all(Array.from({ length: 20 }, () => connectRecorded(srv, { format: 'flatbuffers' })));
  await waitFor('three heartbeats on every connection', () => others.every((c) => c.heartbeats.length >= 3));
  t.pass('every connection heard from the server');
  for (const c of [lone, ...others]) c.client.close();
});

t.test('heartbeat rounds: the timer wakes when the next session is due, not every tick', (t) => {
  const served: number[] = [];
  const dialect: SessionDialect = { notice: () => undefined, heartbeat: (session) => void served.push(session.id) };
  const transport: SessionTransport = { send: () => undefined, bufferedAmount: () => 0, close: () => undefined };
  const budget = { controlPerSecond: 10, maxSubscriptions: 10 };
  const rounds = (count: number, periodMs: number): { wakeUps: number; gaps: number[]; perSession: number[]; largestSlice: number } => {
    const sessions = new Set(Array.from({ length: count }, (_, i) => new Session(i, 0, transport, dialect, budget)));
    let micros = 1_000_000;
    const heartbeats = new HeartbeatRounds(periodMs, sessions, () => micros);
    served.length = 0;
    // Three whole rounds on a clock that moves exactly as the timer asks (ten periods at most).
    const end = micros + 10 * periodMs * 1000;
    let wakeUps = 0;
    const gaps: number[] = [];
    let largestSlice = 0;
    while (served.length < 3 * count && micros < end) {
      const before = served.length;
      const wait = heartbeats.tick();
      largestSlice = Math.max(largestSlice, served.length - before);
      gaps.push(wait);
      micros += wait * 1000;
      wakeUps++;
    }
    const perSession = Array.from({ length: count }, (_, i) => served.filter((id) => id === i).length);
    return { wakeUps, gaps, perSession, largestSlice };
  };

  // 100 sessions, 1 s: one wake-up per session and round (and the round's start), not 500 a second.
  const few = rounds(100, 1000);
  t.ok(few.perSession.every((n) => n === 3), 'every session heard once per round');
  t.ok(few.wakeUps <= 3 * 101, `${few.wakeUps} wake-ups in 3 rounds of 100 sessions`);
  t.ok(few.gaps.every((g) => g >= HEARTBEAT_TICK_MS), 'never sooner than a tick');

  // 10,000 sessions, 1 s: sessions come due faster than ticks, so it ticks, serving a slice each
  // (a tick's worth of the round, 20, and the rounding), never the whole round at once.
  const many = rounds(10_000, 1000);
  t.ok(many.perSession.every((n) => n === 3), 'every session heard once per round');
  t.ok(many.largestSlice <= 10_000 * (2 * HEARTBEAT_TICK_MS) / 1000 + 1, `at most ${many.largestSlice} sessions a tick`);
  t.end();
});
