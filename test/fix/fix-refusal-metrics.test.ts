import 'reflect-metadata';
import t from 'tap';
import { AsciiSession, IJsFixConfig, JsFixWinstonLogFactory, MsgView, SessionLauncher, WinstonLogger } from 'jspurefix';
import { bookcastFix44Dictionary } from '../helpers/fix-dictionary';
import { fixSessionsFile } from '../helpers/fix-sessions';
import { scrape, value } from '../helpers/scrape';
import { startTestServer, TestServer, waitFor } from '../helpers/test-server';

/**
 * FIX refusals in /metrics, with jspurefix as the counterparty: a Logon with a wrong password
 * counts in bookcast_auth_failures_total (route fix:logon), a MarketDataRequest for data the
 * session may not receive too (route fix:market-data-request); a request beyond
 * --max-subscriptions and a burst of requests over --fix-max-messages-per-second count in
 * bookcast_rate_limit_hits_total.
 */
const PASSWORD = 'initiator-secret-1';
const DICTIONARY = bookcastFix44Dictionary();
const logFactory = new JsFixWinstonLogFactory(WinstonLogger.consoleOptions('error'));
/** Low enough that a burst of BURST requests written at once exceeds it in any one second. */
const MAX_PER_SECOND = 5;
const BURST = 40;

class Counterparty extends AsciiSession {
  ready = false;
  readonly rejects: string[] = [];
  /** Text (58) of every Logout received. */
  readonly logouts: string[] = [];

  constructor(config: IJsFixConfig) {
    super(config);
  }

  tradesRequest(id: string): void {
    this.request(id, ['2']);
  }

  heartbeatNow(): void {
    this.send('0', {});
  }

  bookRequest(id: string): void {
    this.request(id, ['0', '1']);
  }

  private request(id: string, entryTypes: string[]): void {
    this.send('V', {
      MDReqID: id,
      SubscriptionRequestType: '1',
      MarketDepth: 0,
      MDUpdateType: 1,
      MDReqGrp: { NoMDEntryTypes: entryTypes.map((MDEntryType) => ({ MDEntryType })) },
      InstrmtMDReqGrp: { NoRelatedSym: [{ Instrument: { Symbol: 'BTC/USD' } }] },
    });
  }

  protected onApplicationMsg(msgType: string, view: MsgView): void {
    if (msgType === 'Y') this.rejects.push(view.getString('Text') ?? '');
  }

  protected onReady(): void {
    this.ready = true;
  }

  protected onLogon(): boolean {
    return true;
  }

  protected onStopped(): void {}
  protected onEncoded(): void {}

  protected onDecoded(msgType: string, txt: string): void {
    if (msgType === '5') this.logouts.push(/(?:^|[\x01|])58=([^\x01|]*)/.exec(txt)?.[1] ?? '');
  }
}

class Launcher extends SessionLauncher {
  client: Counterparty | null = null;

  constructor(port: number, sender: string, password: string) {
    super(
      {
        application: { reconnectSeconds: 1, type: 'initiator', name: 'bookcast-test', tcp: { host: '127.0.0.1', port }, protocol: 'ascii', dictionary: DICTIONARY },
        Username: sender,
        Password: password,
        EncryptMethod: 0,
        ResetSeqNumFlag: true,
        HeartBtInt: 30,
        SenderCompId: sender,
        TargetCompID: 'BOOKCAST',
        BeginString: 'FIX.4.4',
      } as never,
      null,
      logFactory,
    );
  }

  protected override makeFactory() {
    return { makeSession: (config: IJsFixConfig) => (this.client = new Counterparty(config)) };
  }
}

/** Starts a session; `ended` settles (either way) when jspurefix gives up or is done. */
function launch(port: number, sender: string, password: string): { launcher: Launcher; ended: Promise<unknown> } {
  const launcher = new Launcher(port, sender, password);
  const ended = launcher.run().catch((err: Error) => err);
  return { launcher, ended };
}

async function counted(srv: TestServer, name: string, labels: Record<string, string>): Promise<number> {
  return value(await scrape(srv.http), name, labels) ?? 0;
}

let srv: TestServer;
t.before(async () => {
  const sessions = fixSessionsFile([
    { senderCompId: 'REFUSED', password: PASSWORD },
    { senderCompId: 'BOOK-ONLY', password: PASSWORD, permissions: ['l1', 'l2'] },
    { senderCompId: 'BURST', password: PASSWORD },
    { senderCompId: 'CAPPED', password: PASSWORD },
    { senderCompId: 'CHATTY', password: PASSWORD },
  ]);
  srv = await startTestServer([
    '--rate', '200', '--workers', '1', '--symbols', 'BTC/USD', '--fix-port', '0', '--fix-sessions', sessions, '--fix-max-messages-per-second', String(MAX_PER_SECOND),
    // One stream per session: a book and then trades of one symbol is one too many.
    '--max-subscriptions', '1',
  ]);
});
t.teardown(() => srv.server.stop());

t.test('a Logon with a wrong password counts as an auth failure of fix:logon', async (t) => {
  const labels = { route: 'fix:logon', code: 'FIX_LOGON_REFUSED' };
  t.equal(await counted(srv, 'bookcast_auth_failures_total', labels), 0, 'none before');
  const { launcher, ended } = launch(srv.server.fixPort!, 'REFUSED', 'not-the-password');
  await waitFor('the refusing Logout', () => (launcher.client?.logouts.length ?? 0) > 0);
  t.match(launcher.client!.logouts[0], /^FIX_LOGON_REFUSED: /);
  t.notOk(launcher.client!.ready, 'never logged on');
  await waitFor('the refusal counted', async () => (await counted(srv, 'bookcast_auth_failures_total', labels)) === 1);
  t.equal(await counted(srv, 'bookcast_rate_limit_hits_total', { route: 'fix:logon' }), 0, 'not a limit hit');
  launcher.client!.done();
  await ended;
});

t.test('a MarketDataRequest beyond the session permissions counts as an auth failure of fix:market-data-request', async (t) => {
  const labels = { route: 'fix:market-data-request', code: 'FIX_PERMISSION_DENIED' };
  const { launcher, ended } = launch(srv.server.fixPort!, 'BOOK-ONLY', PASSWORD);
  await waitFor('BOOK-ONLY logged on', () => launcher.client?.ready === true);
  launcher.client!.tradesRequest('trades');
  await waitFor('the MarketDataRequestReject', () => launcher.client!.rejects.length > 0);
  t.match(launcher.client!.rejects[0], /^FIX_PERMISSION_DENIED: /);
  await waitFor('the refusal counted', async () => (await counted(srv, 'bookcast_auth_failures_total', labels)) === 1);
  launcher.client!.done();
  await ended;
});

t.test('requests over --fix-max-messages-per-second count as a rate-limit hit of fix:market-data-request', async (t) => {
  const labels = { route: 'fix:market-data-request', code: 'FIX_RATE_LIMITED' };
  t.equal(await counted(srv, 'bookcast_rate_limit_hits_total', labels), 0, 'none before');
  const { launcher, ended } = launch(srv.server.fixPort!, 'BURST', PASSWORD);
  await waitFor('BURST logged on', () => launcher.client?.ready === true);
  // Written in one go: the server reads them within far less than a second, however loaded.
  for (let i = 0; i < BURST; i++) launcher.client!.tradesRequest(`r${i}`);
  await waitFor('the Logout for the rate', () => launcher.client!.logouts.some((text) => text.startsWith('FIX_RATE_LIMITED: ')));
  // The session is over after the first message beyond the limit: exactly one hit.
  await waitFor('the hit counted', async () => (await counted(srv, 'bookcast_rate_limit_hits_total', labels)) === 1);
  t.equal(await counted(srv, 'bookcast_auth_failures_total', { code: 'FIX_RATE_LIMITED' }), 0, 'not an auth failure');
  launcher.client!.done();
  await ended;
});

t.test('a MarketDataRequest beyond --max-subscriptions counts as a rate-limit hit of fix:market-data-request', async (t) => {
  const labels = { route: 'fix:market-data-request', code: 'TOO_MANY_SUBSCRIPTIONS' };
  const { launcher, ended } = launch(srv.server.fixPort!, 'CAPPED', PASSWORD);
  await waitFor('CAPPED logged on', () => launcher.client?.ready === true);
  launcher.client!.bookRequest('book');
  launcher.client!.tradesRequest('trades');
  await waitFor('the MarketDataRequestReject', () => launcher.client!.rejects.length > 0);
  t.match(launcher.client!.rejects, [/^TOO_MANY_SUBSCRIPTIONS: /], 'the second request refused, the first held');
  await waitFor('the refusal counted', async () => (await counted(srv, 'bookcast_rate_limit_hits_total', labels)) === 1);
  launcher.client!.done();
  await ended;
});

t.test('any other message over --fix-max-messages-per-second counts as a rate-limit hit of fix:session', async (t) => {
  const labels = { route: 'fix:session', code: 'FIX_RATE_LIMITED' };
  const { launcher, ended } = launch(srv.server.fixPort!, 'CHATTY', PASSWORD);
  await waitFor('CHATTY logged on', () => launcher.client?.ready === true);
  for (let i = 0; i < BURST; i++) launcher.client!.heartbeatNow();
  await waitFor('the Logout for the rate', () => launcher.client!.logouts.some((text) => text.startsWith('FIX_RATE_LIMITED: ')));
  await waitFor('the hit counted', async () => (await counted(srv, 'bookcast_rate_limit_hits_total', labels)) === 1);
  t.equal(await counted(srv, 'bookcast_rate_limit_hits_total', { route: 'fix:market-data-request', code: 'FIX_RATE_LIMITED' }), 1, 'the earlier hit of fix:market-data-request only');
  launcher.client!.done();
  await ended;
});
