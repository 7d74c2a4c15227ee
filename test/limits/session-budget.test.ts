import t from 'tap';
import type WebSocket from 'ws';
import { openSocket } from '../helpers/ws-connect';
import { startTestServer, waitFor } from '../helpers/test-server';

/** Every JSON text message the socket receives, in order. */
function collect(ws: WebSocket): any[] {
  const seen: any[] = [];
  ws.on('message', (data, binary) => {
    if (!binary) seen.push(JSON.parse(String(data)));
  });
  return seen;
}

t.test('a connection carries its tier\'s budget: the subscribed reply says what is left, and the budget holds', async (t) => {
  const srv = await startTestServer(['--source', 'none', '--symbols', 'BTC/USD,ETH/USD', '--max-subscriptions', '3', '--max-messages-per-second', '40']);
  t.teardown(() => srv.server.stop());

  const ws = await openSocket(`${srv.url}/ws`);
  t.teardown(() => ws.close());
  const feed = collect(ws);
  ws.send(JSON.stringify({ type: 'subscribe', channels: ['ticker', 'trades'], symbols: ['BTC/USD'] }));
  await waitFor('the subscribed reply', () => feed.some((m) => m.type === 'subscribed'));
  const reply = feed.find((m) => m.type === 'subscribed');
  t.same(reply.data.limits.subscriptions, 2);
  t.same(reply.data.limits.max_subscriptions, 3);
  t.same(reply.data.limits.subscriptions_remaining, 1);
  t.same(reply.data.limits.messages_per_second, 40);
  t.ok(reply.data.limits.messages_remaining <= 39, 'the request itself counts against the second');

  ws.send(JSON.stringify({ type: 'subscribe', channels: ['ticker', 'trades'], symbols: ['ETH/USD'] }));
  await waitFor('the refusal', () => feed.some((m) => m.type === 'error'));
  t.equal(feed.find((m) => m.type === 'error').data.code, 'TOO_MANY_SUBSCRIPTIONS', 'two more would pass the budget of three: nothing subscribed');

  // The Market Data API dialect says the same in its payload.
  const md = await openSocket(`${srv.url}/api/v1/market-data/stream`);
  t.teardown(() => md.close());
  const stream = collect(md);
  md.send(JSON.stringify({ type: 'SUBSCRIBE', request_id: 'r1', payload: { symbols: ['BTC/USD'], data_types: ['QUOTE'] } }));
  await waitFor('the SUBSCRIBE reply', () => stream.some((m) => m.type === 'SUBSCRIBE'));
  t.match(stream.find((m) => m.type === 'SUBSCRIBE').payload.limits, { subscriptions: 1, max_subscriptions: 3, subscriptions_remaining: 2 });
});
