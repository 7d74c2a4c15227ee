import t from 'tap';
import { formatUnits, parseUnits } from '../../src/util/decimal';
import { RawFixClient, Received } from '../helpers/fix-raw';
import { fixSessionsFile } from '../helpers/fix-sessions';
import { startTestServer, waitFor } from '../helpers/test-server';

/**
 * L3 over FIX (AggregatedBook N): W lists every order with MDEntryID (278) = its id, X adds,
 * modifies and deletes orders by id with PrevRptSeq continuity; the orders, summed per price,
 * equal REST's book at the same sequence.
 */
t.test('order by order: W + X keep every order, and the book they add up to equals REST', async (t) => {
  const sessions = fixSessionsFile([{ senderCompId: 'ORDERS', password: 'orders-password' }]);
  const srv = await startTestServer(['--rate', '2000', '--workers', '1', '--symbols', 'ETH/USD', '--fix-port', '0', '--fix-sessions', sessions]);
  t.teardown(() => srv.server.stop());
  const ins = srv.server.instruments[0];
  const c = await RawFixClient.connect(srv.server.fixPort!, 'ORDERS');
  c.logon('orders-password', [[141, 'Y']]);
  await c.expect('the Logon answer', (m) => m.type === 'A');
  c.send('V', [[262, 'l3'], [263, 1], [264, 0], [265, 1], [266, 'N'], [267, 2], [269, 0], [269, 1], [146, 1], [55, 'ETH/USD']]);

  const orders = new Map<string, { side: string; price: string; size: string }>();
  const errors: string[] = [];
  const books = new Map<number, string>();
  let last = -1;
  let fresh = true;
  let updates = 0;
  let done = 0;
  const entries = (m: Received) => {
    const out: Record<number, string>[] = [];
    let cur: Record<number, string> | null = null;
    for (const [tag, value] of m.fields) {
      if (tag === (m.type === 'W' ? 269 : 279)) out.push((cur = {}));
      if (cur !== null) cur[tag] = value;
    }
    return out;
  };
  const aggregate = () => {
    const side = (s: string, desc: boolean) => {
      const levels = new Map<string, number>();
      for (const o of orders.values()) if (o.side === s) levels.set(o.price, (levels.get(o.price) ?? 0) + parseUnits(o.size, ins.sizeDecimals));
      return [...levels.entries()].sort((a, b) => (desc ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0]))).slice(0, 10).map(([p, s]) => [p, formatUnits(s, ins.sizeDecimals)]);
    };
    return JSON.stringify({ bids: side('0', true), asks: side('1', false) });
  };
  const apply = () => {
    for (; done < c.received.length; done++) {
      const m = c.received[done];
      if (m.type === 'W' && m.get(262) === 'l3') {
        orders.clear();
        for (const e of entries(m)) orders.set(e[278], { side: e[269], price: e[270], size: e[271] });
        last = Number(m.get(83));
        fresh = true;
        books.set(last, aggregate());
      } else if (m.type === 'X') {
        const seq = Number(m.get(83));
        const prev = Number(m.get(20002));
        if (!(fresh ? prev <= last && seq > last : prev === last)) errors.push(`break: held ${last}, got ${seq} prev ${prev}`);
        for (const e of entries(m)) {
          const id = e[278];
          if (e[279] === '0') {
            if (orders.has(id)) errors.push(`add of a held order ${id}`);
            orders.set(id, { side: e[269], price: e[270], size: e[271] });
          } else if (!orders.has(id)) errors.push(`${e[279] === '1' ? 'modify' : 'delete'} of an unknown order ${id}`);
          else if (e[279] === '1') orders.set(id, { side: e[269], price: e[270], size: e[271] });
          else orders.delete(id);
        }
        last = seq;
        fresh = false;
        updates++;
        books.set(seq, aggregate());
      }
    }
    return updates;
  };
  await waitFor('a snapshot and 200 order updates', () => apply() >= 200);
  const rest = await srv.get('/api/v1/market/ETH%2FUSD/orderbook?depth=10');
  const seq: number = rest.body.sequence;
  await waitFor(`the FIX orders past ${seq}`, () => (apply(), last > seq));
  t.same(errors, [], 'every update continuous and about orders the client holds');
  const at = Math.max(...[...books.keys()].filter((k) => k <= seq));
  t.equal(books.get(at), JSON.stringify({ bids: rest.body.bids, asks: rest.body.asks }), `orders summed per price at ${seq} equal REST`);
  c.close();
});
