import 'reflect-metadata';
import t from 'tap';
import { AsciiSession, IJsFixConfig, JsFixWinstonLogFactory, MsgView, SessionLauncher, WinstonLogger } from 'jspurefix';
import { bookChecksum } from '../../src/client';
import { bookcastFix44Dictionary } from '../helpers/fix-dictionary';
import { fixSessionsFile } from '../helpers/fix-sessions';
import { startTestServer, waitFor } from '../helpers/test-server';

/**
 * jspurefix, an independent FIX engine, as the counterparty: it logs on, lists the securities,
 * subscribes to a book, trades and the ticker's figures, rebuilds the book from W + X, checks
 * RptSeq continuity and every BookChecksum, and ends equal to REST at the same sequence.
 */
const PASSWORD = 'initiator-secret-1';
const DICTIONARY = bookcastFix44Dictionary();
const logFactory = new JsFixWinstonLogFactory(WinstonLogger.consoleOptions('error'));

/** One book as the client holds it: price → size per side, and the last RptSeq applied. */
class FixBook {
  readonly bids = new Map<string, string>();
  readonly asks = new Map<string, string>();
  rptSeq = -1;
  /** A snapshot came last: the next update's PrevRptSeq may be older than it. */
  fresh = true;
  snapshots = 0;
  updates = 0;
  checksums = 0;
  readonly errors: string[] = [];
  /** Top 10 after each message, by RptSeq. */
  readonly history = new Map<number, string>();

  top(side: 'bids' | 'asks', n: number): [string, string][] {
    const entries = [...this[side].entries()];
    entries.sort((a, b) => (side === 'bids' ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0])));
    return entries.slice(0, n);
  }

  check(stated: number | null, seq: number): void {
    if (stated === null) {
      this.errors.push(`no BookChecksum at ${seq}`);
      return;
    }
    const mine = bookChecksum(this.top('bids', 10), this.top('asks', 10));
    if (mine !== stated) this.errors.push(`checksum at ${seq}: stated ${stated}, computed ${mine}`);
    this.checksums++;
    this.history.set(seq, JSON.stringify({ bids: this.top('bids', 10), asks: this.top('asks', 10) }));
  }
}

class BookcastClient extends AsciiSession {
  securities: { symbol: string; tick: string; lot: string }[] = [];
  readonly book = new FixBook();
  trades = 0;
  lastTradeSeq = -1;
  tradeErrors: string[] = [];
  stats: Record<string, string> = {};
  rejects: string[] = [];

  constructor(config: IJsFixConfig) {
    super(config);
  }

  protected onApplicationMsg(msgType: string, view: MsgView): void {
    switch (msgType) {
      case 'y':
        return this.onSecurityList(view);
      case 'W':
        return this.onSnapshot(view);
      case 'X':
        return this.onIncremental(view);
      case 'Y':
        this.rejects.push(`${view.getString('MDReqID')}: ${view.getString('Text')}`);
        return;
    }
  }

  private onSecurityList(view: MsgView): void {
    const group = view.getView('SecListGrp.NoRelatedSym')!;
    for (let i = 0; i < group.groupCount(); i++) {
      const e = group.getGroupInstance(i)!;
      this.securities.push({ symbol: e.getString('Symbol')!, tick: e.getString('MinPriceIncrement')!, lot: e.getString('RoundLot')! });
    }
    this.send('V', {
      MDReqID: 'book',
      SubscriptionRequestType: '1',
      MarketDepth: 10,
      MDUpdateType: 1,
      MDReqGrp: { NoMDEntryTypes: [{ MDEntryType: '0' }, { MDEntryType: '1' }] },
      InstrmtMDReqGrp: { NoRelatedSym: [{ Instrument: { Symbol: 'BTC/USD' } }] },
    });
    this.send('V', {
      MDReqID: 'flow',
      SubscriptionRequestType: '1',
      MarketDepth: 0,
      MDUpdateType: 1,
      MDReqGrp: { NoMDEntryTypes: [{ MDEntryType: '2' }, { MDEntryType: '7' }, { MDEntryType: '8' }, { MDEntryType: 'B' }] },
      InstrmtMDReqGrp: { NoRelatedSym: [{ Instrument: { Symbol: 'BTC/USD' } }] },
    });
  }

  private onSnapshot(view: MsgView): void {
    const seq = Number(view.getString('RptSeq'));
    const entries = view.getView('MDFullGrp.NoMDEntries');
    if (view.getString('MDReqID') !== 'book') {
      for (let i = 0; i < (entries?.groupCount() ?? 0); i++) {
        const e = entries!.getGroupInstance(i)!;
        this.stats[e.getString('MDEntryType')!] = e.getString('MDEntryPx') ?? e.getString('MDEntrySize')!;
      }
      return;
    }
    const b = this.book;
    b.bids.clear();
    b.asks.clear();
    for (let i = 0; i < (entries?.groupCount() ?? 0); i++) {
      const e = entries!.getGroupInstance(i)!;
      const side = e.getString('MDEntryType') === '0' ? b.bids : b.asks;
      side.set(e.getString('MDEntryPx')!, e.getString('MDEntrySize')!);
    }
    b.rptSeq = seq;
    b.fresh = true;
    b.snapshots++;
    b.check(numberOrNull(view.getString('BookChecksum')), seq);
  }

  private onIncremental(view: MsgView): void {
    const entries = view.getView('MDIncGrp.NoMDEntries')!;
    const first = entries.getGroupInstance(0)!;
    const type = first.getString('MDEntryType');
    const seq = Number(first.getString('RptSeq'));
    if (type === '2') {
      this.trades++;
      if (seq <= this.lastTradeSeq) this.tradeErrors.push(`trade RptSeq ${seq} after ${this.lastTradeSeq}`);
      this.lastTradeSeq = seq;
      return;
    }
    if (type !== '0' && type !== '1') {
      for (let i = 0; i < entries.groupCount(); i++) {
        const e = entries.getGroupInstance(i)!;
        this.stats[e.getString('MDEntryType')!] = e.getString('MDEntryPx') ?? e.getString('MDEntrySize')!;
      }
      return;
    }
    const b = this.book;
    if (b.rptSeq < 0) return void b.errors.push(`X ${seq} before the snapshot`);
    // Right after a snapshot the first update may name any earlier message; after that, exactly the last.
    const prev = Number(view.getString('PrevRptSeq'));
    const continuous = b.fresh ? prev <= b.rptSeq && seq > b.rptSeq : prev === b.rptSeq && seq > prev;
    if (!continuous) return void b.errors.push(`sequence break: held ${b.rptSeq}, got RptSeq ${seq} PrevRptSeq ${prev}`);
    b.fresh = false;
    for (let i = 0; i < entries.groupCount(); i++) {
      const e = entries.getGroupInstance(i)!;
      if (Number(e.getString('RptSeq')) !== seq) b.errors.push(`entries of one X disagree on RptSeq at ${seq}`);
      const side = e.getString('MDEntryType') === '0' ? b.bids : b.asks;
      const price = e.getString('MDEntryPx')!;
      const action = e.getString('MDUpdateAction');
      if (action === '2') {
        if (!side.delete(price)) b.errors.push(`delete of a level not held: ${price} at ${seq}`);
      } else {
        if (action === '0' && side.has(price)) b.errors.push(`new level already held: ${price} at ${seq}`);
        if (action === '1' && !side.has(price)) b.errors.push(`change of a level not held: ${price} at ${seq}`);
        side.set(price, e.getString('MDEntrySize')!);
      }
    }
    b.rptSeq = seq;
    b.updates++;
    b.check(numberOrNull(view.getString('BookChecksum')), seq);
  }

  protected onReady(): void {
    this.send('x', { SecurityReqID: 'all', SecurityListRequestType: 4 });
  }

  protected onLogon(): boolean {
    return true;
  }

  protected onStopped(): void {}
  protected onDecoded(): void {}
  protected onEncoded(): void {}

  logout(): void {
    this.done();
  }
}

function numberOrNull(text: string | null): number | null {
  return text === null ? null : Number(text);
}

class Launcher extends SessionLauncher {
  client: BookcastClient | null = null;

  constructor(port: number) {
    super(
      {
        application: { reconnectSeconds: 1, type: 'initiator', name: 'bookcast-test', tcp: { host: '127.0.0.1', port }, protocol: 'ascii', dictionary: DICTIONARY },
        Username: 'INITIATOR',
        Password: PASSWORD,
        EncryptMethod: 0,
        ResetSeqNumFlag: true,
        HeartBtInt: 30,
        SenderCompId: 'INITIATOR',
        TargetCompID: 'BOOKCAST',
        BeginString: 'FIX.4.4',
      } as never,
      null,
      logFactory,
    );
  }

  protected override makeFactory() {
    return {
      makeSession: (config: IJsFixConfig) => {
        this.client = new BookcastClient(config);
        return this.client;
      },
    };
  }
}

t.test('jspurefix logs on, lists securities, rebuilds the book from W + X and ends equal to REST', async (t) => {
  const sessions = fixSessionsFile([{ senderCompId: 'INITIATOR', password: PASSWORD }]);
  const srv = await startTestServer(['--rate', '3000', '--workers', '1', '--symbols', 'BTC/USD,ETH/USD', '--fix-port', '0', '--fix-sessions', sessions]);
  t.teardown(() => srv.server.stop());
  const launcher = new Launcher(srv.server.fixPort!);
  const running = launcher.run();

  await waitFor('the security list', () => (launcher.client?.securities.length ?? 0) > 0);
  const client = launcher.client!;
  t.same(
    client.securities.map((s) => s.symbol),
    ['BTC/USD', 'ETH/USD'],
  );
  const btc = client.securities.find((s) => s.symbol === 'BTC/USD')!;
  t.equal(btc.tick, '0.1', 'MinPriceIncrement is the tick size');
  t.equal(btc.lot, '0.00001', 'RoundLot is the lot size');

  await waitFor('a snapshot, 300 book updates and 20 trades', () => client.book.snapshots >= 1 && client.book.updates >= 300 && client.trades >= 20);
  t.same(client.rejects, [], 'no request rejected');
  t.same(client.book.errors, [], 'RptSeq continuous, every action consistent, every BookChecksum equal to the rebuilt book');
  t.same(client.tradeErrors, [], 'trade RptSeq increasing');
  t.ok(client.book.checksums >= 301, `${client.book.checksums} checksums verified`);
  // The statistics are their own request: their first message may follow the book's updates.
  await waitFor('the ticker volume', () => client.stats['B'] !== undefined);
  t.match(client.stats['B'], /^\d+(\.\d+)?$/, 'the ticker volume arrived, a decimal');

  // REST at a sequence: once the client is past it, its book at the last update at or before it
  // (the depth-10 stream skips events that leave the top 10 alone) must be REST's.
  const rest = await srv.get('/api/v1/market/BTC%2FUSD/orderbook?depth=10');
  t.equal(rest.status, 200);
  const seq: number = rest.body.sequence;
  await waitFor(`the FIX book past sequence ${seq}`, () => client.book.rptSeq > seq);
  const at = Math.max(...[...client.book.history.keys()].filter((k) => k <= seq));
  t.ok(Number.isFinite(at), `the client held the book at ${seq}`);
  const mine = JSON.parse(client.book.history.get(at)!) as { bids: [string, string][]; asks: [string, string][] };
  t.same(mine.bids, rest.body.bids, `bids at ${seq} equal REST`);
  t.same(mine.asks, rest.body.asks, `asks at ${seq} equal REST`);
  client.logout();
  await running;
});
