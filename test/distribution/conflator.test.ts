import t from 'tap';
import { Conflator } from '../../src/distribution/conflator';
import { Session, Subscription, SUB_LIVE } from '../../src/distribution/session';
import { FORMAT_BINARY, StreamTable } from '../../src/distribution/streams';
import { STREAM_TICKER } from '../../src/model/streams';
import { loadConfig } from '../../src/config';
import { pickInstruments } from '../../src/app/instruments';
import { waitFor } from '../helpers/test-server';

const instruments = pickInstruments(loadConfig([], {}));
const streams = new StreamTable(instruments);
const TICKER = streams.index(0, STREAM_TICKER);
const formats = instruments.map((i) => ({ priceDecimals: i.priceDecimals, sizeDecimals: i.sizeDecimals }));

/** A binary session whose sends are kept as the first byte of each message. */
function session(): { session: Session; sent: number[] } {
  const sent: number[] = [];
  const transport = { send: (data: Uint8Array | string) => sent.push((data as Uint8Array)[0]), bufferedAmount: () => 0, close: () => undefined };
  const dialect = { notice: () => undefined, heartbeat: () => undefined };
  return { session: new Session(1, FORMAT_BINARY, transport, dialect, { controlPerSecond: 10, maxSubscriptions: 10 }), sent };
}

function throttled(ms: number, sentAt: number): Subscription {
  const sub = new Subscription();
  sub.state = SUB_LIVE;
  sub.throttleMs = ms;
  sub.sentAt = sentAt;
  return sub;
}

// In Node 20, not yet in the @types/node this project pins.
const activeResources = (): string[] => (process as unknown as { getActiveResourcesInfo(): string[] }).getActiveResourcesInfo();
const timeouts = (): number => activeResources().filter((r) => r === 'Timeout').length;

t.test('flush sends the newest message once the throttle allows it, and says whether one is still owed', async (t) => {
  const conflator = new Conflator(streams, formats);
  t.teardown(() => conflator.stop());
  const { session: s, sent } = session();
  conflator.add(s, TICKER, throttled(100, 0));
  t.equal(conflator.flush(50), false, 'nothing offered: nothing owed');
  conflator.offer(TICKER, 1, Uint8Array.of(1), false);
  conflator.offer(TICKER, 2, Uint8Array.of(2), false);
  t.equal(conflator.flush(50), true, 'within the throttle: owed, held back');
  t.same(sent, []);
  t.equal(conflator.flush(100), false, 'sent: nothing owed any more');
  t.same(sent, [2], 'only the newest');
  t.equal(conflator.flush(500), false);
  t.same(sent, [2], 'nothing twice');
});

t.test('an offer arms the timer, which stops once everything due went out', async (t) => {
  const before = timeouts();
  const conflator = new Conflator(streams, formats);
  t.teardown(() => conflator.stop());
  const { session: s, sent } = session();
  conflator.add(s, TICKER, throttled(100, 0));
  t.equal(timeouts(), before, 'no offer, no timer');
  conflator.offer(TICKER, 1, Uint8Array.of(7), false);
  t.equal(timeouts(), before + 1, 'armed by the offer');
  await waitFor('the timer to send it', () => sent.length > 0);
  t.same(sent, [7], 'the timer sent it');
  t.equal(timeouts(), before, 'and did not arm again');
});
