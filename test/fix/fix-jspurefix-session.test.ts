import 'reflect-metadata';
import t from 'tap';
import * as net from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { AsciiSession, IJsFixConfig, JsFixWinstonLogFactory, MsgView, SessionLauncher, WinstonLogger } from 'jspurefix';
import { FileSessionStreamProvider } from 'jspurefix/dist/store/file-session-stream-provider';
import { bookcastFix44Dictionary } from '../helpers/fix-dictionary';
import { fixSessionsFile } from '../helpers/fix-sessions';
import { startTestServer, TestServer, waitFor } from '../helpers/test-server';

/**
 * jspurefix as the counterparty of the session layer: its own file store keeps its numbers
 * across launches (ResetSeqNumFlag = N), so a second launch is a reconnect of the same FIX
 * session. A logout/logon continues both sequences with no resend; a connection dropped while
 * our answers were in flight leaves jspurefix behind, and the resend it asks for brings the kept
 * messages back (PossDupFlag = Y) and gap-fills the rest (beyond --fix-store-messages, admin).
 */
const PASSWORD = 'initiator-secret-1';
const DICTIONARY = bookcastFix44Dictionary();
const STORE = 2;
const logFactory = new JsFixWinstonLogFactory(WinstonLogger.consoleOptions('error'));

interface Seen {
  type: string;
  seq: number;
  text: string;
}

function seen(msgType: string, txt: string): Seen {
  const field = (tag: number) => new RegExp(`(?:^|[\\x01|])${tag}=([^\\x01|]*)`).exec(txt)?.[1];
  return { type: msgType, seq: Number(field(34)), text: txt };
}

function tag(m: Seen, n: number): string | undefined {
  return new RegExp(`(?:^|[\\x01|])${n}=([^\\x01|]*)`).exec(m.text)?.[1];
}

class ListClient extends AsciiSession {
  readonly lists: { id: string; possDup: boolean }[] = [];
  readonly received: Seen[] = [];
  readonly sent: Seen[] = [];
  ready = false;

  constructor(config: IJsFixConfig) {
    super(config);
  }

  request(id: string): void {
    this.send('x', { SecurityReqID: id, SecurityListRequestType: 0, Instrument: { Symbol: 'BTC/USD' } });
  }

  protected onApplicationMsg(msgType: string, view: MsgView): void {
    if (msgType === 'y') this.lists.push({ id: view.getString('SecurityReqID')!, possDup: view.getTyped(43) === true });
  }

  protected onReady(): void {
    this.ready = true;
  }

  protected onLogon(): boolean {
    return true;
  }

  protected onStopped(): void {}

  protected onDecoded(msgType: string, txt: string): void {
    this.received.push(seen(msgType, txt));
  }

  protected onEncoded(msgType: string, txt: string): void {
    this.sent.push(seen(msgType, txt));
  }

  /** The socket under the session, for a test that drops it. */
  dropConnection(): void {
    (this as unknown as { transport: { duplex: { end(): void; readable: net.Socket | null } } | null }).transport!.duplex.readable!.destroy();
  }

  logout(): void {
    this.done();
  }
}

class Launcher extends SessionLauncher {
  client: ListClient | null = null;

  constructor(port: number, sender: string, storeDir: string) {
    super(
      {
        application: { reconnectSeconds: 1, type: 'initiator', name: 'bookcast-test', tcp: { host: '127.0.0.1', port }, protocol: 'ascii', dictionary: DICTIONARY },
        Username: sender,
        Password: PASSWORD,
        EncryptMethod: 0,
        ResetSeqNumFlag: false,
        HeartBtInt: 30,
        SenderCompId: sender,
        TargetCompID: 'BOOKCAST',
        BeginString: 'FIX.4.4',
        store: { type: 'file', directory: storeDir },
      } as never,
      null,
      logFactory,
    );
  }

  protected override makeFactory() {
    return {
      makeSession: (config: IJsFixConfig) => {
        this.client = new ListClient(config);
        return this.client;
      },
    };
  }
}

/** Runs one launch of the client until it is logged on; `ended` settles when the session does. */
async function launch(port: number, sender: string, storeDir: string): Promise<{ client: ListClient; ended: Promise<unknown> }> {
  const launcher = new Launcher(port, sender, storeDir);
  let over = false;
  const ended = launcher.run().then(
    (value) => ((over = true), value),
    (err: Error) => ((over = true), err),
  );
  await waitFor(`${sender} logged on`, () => launcher.client?.ready === true || over);
  const client = launcher.client;
  if (client?.ready !== true) {
    // Refused or cut before logging on: say why rather than wait out the deadline.
    const logout = client?.received.find((m) => m.type === '5');
    throw new Error(`${sender} ended before logging on: ${logout === undefined ? 'no Logout received' : tag(logout, 58)}`);
  }
  return { client, ended };
}

/**
 * jspurefix (5.11) persists its sequence numbers after every message with an unawaited
 * `fs.promises.writeFile` of the whole file, so two writes in flight can finish out of order and
 * leave an older number on disk for good: beside a second suite a dropped session's store kept
 * a number below its last send, and the relaunch waited for it in vain. Here the writes of one
 * store go one after the other, in the order jspurefix made them, so the file ends with the last.
 */
const writeSeqNums = FileSessionStreamProvider.prototype.writeSeqNums;
const seqNumWrites = new WeakMap<FileSessionStreamProvider, Promise<void>>();
FileSessionStreamProvider.prototype.writeSeqNums = function (this: FileSessionStreamProvider, content: string): Promise<void> {
  const next = (seqNumWrites.get(this) ?? Promise.resolve()).then(() => writeSeqNums.call(this, content));
  // A failed write fails its own caller, as before; the next one still runs.
  seqNumWrites.set(this, next.catch(() => undefined));
  return next;
};

/**
 * The next sequence number jspurefix has stored for `sender` (0 before it stored any). It writes
 * it after each send without waiting, so a relaunch must first see it on disk: a loaded machine
 * once relaunched on the number before (MsgSeqNum too low, refused as FIX requires).
 */
function storedNextSeq(storeDir: string, sender: string): number {
  const file = readdirSync(storeDir).find((f) => f.includes(sender) && f.endsWith('.seqnums'));
  return file === undefined ? 0 : Number.parseInt(readFileSync(path.join(storeDir, file), 'utf8').split(':')[0], 10) || 0;
}

/**
 * Removes a jspurefix file store. jspurefix does not await its writes (see storedNextSeq), so one
 * may still land while the directory is removed (ENOTEMPTY, seen beside a second suite): each
 * test first waits for its last number to be stored, and Node retries the removal besides.
 */
function removeStore(storeDir: string): void {
  rmSync(storeDir, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
}

/** Waits until jspurefix's store holds every number the launch sent. */
function sequencesStored(storeDir: string, sender: string, client: ListClient): Promise<void> {
  const lastSent = Math.max(...client.sent.map((m) => m.seq));
  return waitFor(`${sender}: jspurefix to store its next sequence number (${lastSent + 1})`, () => storedNextSeq(storeDir, sender) > lastSent);
}

/**
 * A TCP relay that can hold the server's bytes (they never reach the client) and then cut the
 * connection: the answers in flight when a connection drops.
 */
class HoldingRelay {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  holding = false;
  held = '';
  port = 0;

  constructor(target: number) {
    this.server = net.createServer((client) => {
      const upstream = net.connect(target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => {});
        s.on('close', () => this.sockets.delete(s));
      }
      client.on('data', (d) => upstream.write(d as unknown as Uint8Array));
      upstream.on('data', (d) => {
        if (this.holding) this.held += d.toString('latin1');
        else client.write(d as unknown as Uint8Array);
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  start(): Promise<void> {
    return new Promise((resolve) =>
      this.server.listen(0, '127.0.0.1', () => {
        this.port = (this.server.address() as net.AddressInfo).port;
        resolve();
      }),
    );
  }

  cut(): void {
    for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.cut();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let srv: TestServer;
t.before(async () => {
  const sessions = fixSessionsFile([
    { senderCompId: 'JSPF-LOGOUT', password: PASSWORD },
    { senderCompId: 'JSPF-DROP', password: PASSWORD },
  ]);
  srv = await startTestServer(['--rate', '200', '--workers', '1', '--symbols', 'BTC/USD,ETH/USD', '--fix-port', '0', '--fix-sessions', sessions, '--fix-store-messages', String(STORE)]);
});
t.teardown(() => srv.server.stop());

t.test('jspurefix logs out and on again: both sequences continue, nothing is resent', async (t) => {
  const storeDir = mkdtempSync(path.join(tmpdir(), 'bookcast-jspurefix-'));
  t.teardown(() => removeStore(storeDir));
  const first = await launch(srv.server.fixPort!, 'JSPF-LOGOUT', storeDir);
  first.client.request('a1');
  await waitFor('the first SecurityList', () => first.client.lists.length === 1);
  first.client.logout();
  await first.ended;
  await sequencesStored(storeDir, 'JSPF-LOGOUT', first.client);
  const lastSent = Math.max(...first.client.sent.map((m) => m.seq));
  const lastReceived = Math.max(...first.client.received.map((m) => m.seq));
  t.ok(first.client.received.some((m) => m.type === '5'), 'our Logout answered its Logout');

  const second = await launch(srv.server.fixPort!, 'JSPF-LOGOUT', storeDir);
  const logonOut = second.client.sent.find((m) => m.type === 'A')!;
  const logonIn = second.client.received.find((m) => m.type === 'A')!;
  t.equal(logonOut.seq, lastSent + 1, 'jspurefix continued its numbering (from its file store)');
  t.equal(logonIn.seq, lastReceived + 1, 'and so did we');
  second.client.request('a2');
  await waitFor('the second SecurityList', () => second.client.lists.length === 1);
  t.same(second.client.lists, [{ id: 'a2', possDup: false }]);
  const admin = [...second.client.sent, ...second.client.received].filter((m) => m.type === '2' || m.type === '4' || m.type === '5');
  t.same(admin, [], 'no ResendRequest, SequenceReset or Logout either way');
  second.client.logout();
  await second.ended;
  await sequencesStored(storeDir, 'JSPF-LOGOUT', second.client);
});

t.test('a dropped connection: jspurefix asks for what it missed, the kept messages come back, the rest is gap-filled', async (t) => {
  const storeDir = mkdtempSync(path.join(tmpdir(), 'bookcast-jspurefix-'));
  t.teardown(() => removeStore(storeDir));
  const relay = new HoldingRelay(srv.server.fixPort!);
  await relay.start();
  t.teardown(() => relay.close());
  const first = await launch(relay.port, 'JSPF-DROP', storeDir);
  first.client.request('d0');
  await waitFor('the first SecurityList', () => first.client.lists.length === 1);
  const lastReceived = Math.max(...first.client.received.map((m) => m.seq));

  // Four answers sent by us and lost with the connection; the store keeps the last two.
  relay.holding = true;
  for (const id of ['d1', 'd2', 'd3', 'd4']) first.client.request(id);
  await waitFor('the four answers to be sent (and held)', () => relay.held.includes('320=d4\x01'));
  relay.holding = false;
  relay.cut();
  await first.ended;
  await sequencesStored(storeDir, 'JSPF-DROP', first.client);
  t.same(first.client.lists.map((l) => l.id), ['d0'], 'the first launch saw none of the four');

  const second = await launch(srv.server.fixPort!, 'JSPF-DROP', storeDir);
  const logonIn = second.client.received.find((m) => m.type === 'A')!;
  t.ok(logonIn.seq > lastReceived + 4, `our Logon (${logonIn.seq}) is past the four lost answers`);
  await waitFor('the kept answers resent', () => second.client.lists.length >= STORE);
  const rr = second.client.sent.find((m) => m.type === '2')!;
  t.ok(rr !== undefined, 'jspurefix sent a ResendRequest');
  t.equal(tag(rr, 7), String(lastReceived + 1), 'from the first number it missed');
  t.same(second.client.lists, [{ id: 'd3', possDup: true }, { id: 'd4', possDup: true }], `the last ${STORE} answers come back with PossDupFlag`);
  const fills = second.client.received.filter((m) => m.type === '4');
  t.ok(fills.length >= 1 && fills.every((m) => tag(m, 123) === 'Y' && tag(m, 43) === 'Y'), 'the rest is SequenceReset-GapFill, PossDupFlag = Y');
  t.equal(fills[0].seq, lastReceived + 1, 'the first gap fill starts where jspurefix stopped');

  // The session carries on in sequence.
  second.client.request('after');
  await waitFor('an answer after the resend', () => second.client.lists.some((l) => l.id === 'after'));
  t.same(second.client.lists.find((l) => l.id === 'after'), { id: 'after', possDup: false });
  t.notOk(second.client.received.some((m) => m.type === '5'), 'never logged out');
  second.client.logout();
  await second.ended;
  await sequencesStored(storeDir, 'JSPF-DROP', second.client);
});
