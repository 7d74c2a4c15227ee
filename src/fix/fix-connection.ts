import type { Socket } from 'node:net';
import { BookcastError, ErrorCode, ERRORS } from '../errors';
import { Session, SessionBudget, SessionDialect, SessionTransport } from '../distribution/session';
import { FORMAT_FIX } from '../distribution/streams';
import type { SessionHub } from '../distribution/session-hub';
import type { StreamTable } from '../distribution/streams';
import {
  EMPTY_BODY,
  echo,
  field,
  FixBody,
  fixBody,
  FixMessage,
  FixParser,
  frame,
  PARSE_GARBLED,
  PARSE_MESSAGE,
  PARSE_NEED_MORE,
  utcTimestamp,
} from './fix-codec';
import type { FixAuthenticator, FixIdentity } from './fix-credentials';
import { FixMarketData, MarketDataSender } from './fix-market-data';
import type { FixRenderer } from './fix-render';
import type { FixSessionStore } from './fix-session-store';
import { securityList } from './fix-security-list';
import {
  isAdmin,
  MSG_HEARTBEAT,
  MSG_LOGON,
  MSG_LOGOUT,
  MSG_MARKET_DATA_REQUEST,
  MSG_NEWS,
  MSG_REJECT,
  MSG_RESEND_REQUEST,
  MSG_SECURITY_LIST,
  MSG_SECURITY_LIST_REQUEST,
  MSG_SEQUENCE_RESET,
  MSG_TEST_REQUEST,
  REJECT_INVALID_MSG_TYPE,
  REJECT_REQUIRED_TAG_MISSING,
  REJECT_VALUE_INCORRECT,
  ROUTE_LOGON,
  ROUTE_MARKET_DATA_REQUEST,
  ROUTE_SESSION,
  TAG_BEGIN_SEQ_NO,
  TAG_ENCRYPT_METHOD,
  TAG_END_SEQ_NO,
  TAG_GAP_FILL_FLAG,
  TAG_HEART_BT_INT,
  TAG_MSG_SEQ_NUM,
  TAG_NEW_SEQ_NO,
  TAG_ORIG_SENDING_TIME,
  TAG_PASSWORD,
  TAG_POSS_DUP_FLAG,
  TAG_REF_MSG_TYPE,
  TAG_REF_SEQ_NUM,
  TAG_REF_TAG_ID,
  TAG_RESET_SEQ_NUM_FLAG,
  TAG_SENDER_COMP_ID,
  TAG_SENDING_TIME,
  TAG_SESSION_REJECT_REASON,
  TAG_TARGET_COMP_ID,
  TAG_TEST_REQ_ID,
  TAG_TEXT,
  TAG_USERNAME,
} from './fix-tags';

/** Headline (148) and LinesOfText (33) of a News message (slow-consumer notices). */
const TAG_HEADLINE = 148;
const TAG_LINES_OF_TEXT = 33;
/** HeartBtInt (108) accepted, seconds. */
const MAX_HEART_BT_INT = 3600;
/** After a Logout is sent, how long the peer has to close before the socket is destroyed. */
const LOGOUT_GRACE_MS = 2000;
/** Garbled messages in a row after which the connection is dropped (a peer that is not speaking FIX). */
const MAX_GARBLED = 20;

const AWAIT_LOGON = 0;
const LIVE = 1;
const LOGGED_OUT = 2;

export interface FixLimits {
  maxMessageBytes: number;
  maxMessagesPerSecond: number;
}

/** What every connection shares (FixAcceptor owns it). */
export interface FixGateway {
  readonly compId: string;
  readonly hub: SessionHub;
  readonly streams: StreamTable;
  readonly renderer: FixRenderer;
  readonly authenticator: FixAuthenticator;
  readonly limits: FixLimits;
  /** What a FIX session may hold in the hub (its subscriptions). */
  readonly budget: SessionBudget;
  /** The persisted state of a FIX session (FixIdentity.sessionKey), shared by its successive connections. */
  storeFor(sessionKey: string): FixSessionStore;
  /** The live connection of a session (FixIdentity.sessionKey), if any. */
  readonly live: Map<string, FixConnection>;
  nextSessionId(): number;
  /** Counts a refusal by FIX route (`fix:logon`, …) and code, for bookcast_auth_failures_total and bookcast_rate_limit_hits_total. */
  refused(route: string, code: string): void;
}

/** The hub's view of a FIX connection: bytes from the owner in, backpressure out, close = Logout. */
class FixTransport implements SessionTransport {
  constructor(readonly connection: FixConnection) {}

  send(data: Uint8Array | string): void {
    if (typeof data !== 'string') this.connection.market.deliver(data);
  }

  bufferedAmount(): number {
    return this.connection.socket.writableLength;
  }

  /**
   * The core closes with a coded reason (`SLOW_CONSUMER: …`, a revoked key's `API_KEY_REVOKED`,
   * `server shutting down`): the Logout's Text names that code.
   */
  close(_code: number, reason: string): void {
    const m = /^([A-Z_]+)(?::\s*([^]*))?$/.exec(reason);
    if (m !== null && m[1] in ERRORS) this.connection.logout(m[1], m[2] ?? ERRORS[m[1] as ErrorCode].message);
    else this.connection.logout('FIX_SHUTDOWN', reason);
  }
}

/**
 * FIX renders the core's notices as News (B); heartbeats are FIX's own (HeartBtInt, driven by
 * the acceptor's timer), so the core's heartbeat rounds send nothing to a FIX session.
 */
const FIX_DIALECT: SessionDialect = {
  notice(session: Session, code: ErrorCode, message: string): void {
    const c = (session.transport as FixTransport).connection;
    c.sendApp(MSG_NEWS, fixBody(field(TAG_HEADLINE, code) + field(TAG_LINES_OF_TEXT, 1) + field(TAG_TEXT, echo(message))));
  },
  heartbeat(): void {},
};

/**
 * One TCP (or TLS) connection of the FIX acceptor: the session layer of FIX 4.4 — Logon,
 * sequence numbers both ways, Heartbeat/TestRequest, ResendRequest, SequenceReset, Reject,
 * Logout — in front of FixMarketData. Anything a peer sends is handled inside this object;
 * whatever goes wrong ends this connection only.
 */
export class FixConnection implements MarketDataSender {
  private readonly parser: FixParser;
  private state = AWAIT_LOGON;
  private store: FixSessionStore | null = null;
  private identity: FixIdentity | null = null;
  /** "49=<us>\x0156=<them>\x01", made at logon. */
  private compIds = '';
  private heartBtMs = 30_000;
  lastSentAt = Date.now();
  lastReceivedAt = Date.now();
  private testRequestAt = 0;
  private testRequestId = '';
  /** ResendRequest sent and not yet satisfied up to this number. */
  private resendUpTo = 0;
  private authenticating = false;
  private closed = false;
  /** SenderCompID of the Logon being answered (a refusal is addressed to it). */
  private logonSender = '';
  private garbled = 0;
  private windowStart = 0;
  private windowCount = 0;
  readonly openedAt = Date.now();
  private session: Session | null = null;
  market!: FixMarketData;

  constructor(
    readonly socket: Socket,
    private readonly gateway: FixGateway,
  ) {
    this.parser = new FixParser(gateway.limits.maxMessageBytes);
    socket.on('data', (chunk: Buffer) => this.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length)));
    socket.on('error', () => socket.destroy());
    // The session is released when the peer's FIN is read, not only on 'close' (a later loop phase):
    // a client that reconnects at once must not find its old connection still holding the session.
    socket.on('end', () => this.onClose());
    socket.on('close', () => this.onClose());
  }

  get loggedOn(): boolean {
    return this.state === LIVE;
  }

  private onData(chunk: Uint8Array): void {
    if (this.state === LOGGED_OUT) return;
    this.lastReceivedAt = Date.now();
    this.parser.push(chunk);
    this.drain();
  }

  private drain(): void {
    try {
      while (!this.authenticating && !this.socket.destroyed) {
        const r = this.parser.next();
        if (r === PARSE_NEED_MORE) return;
        if (r === PARSE_MESSAGE) {
          this.garbled = 0;
          if (!this.admitRate(this.parser.message!)) return;
          this.handle(this.parser.message!);
        } else if (r === PARSE_GARBLED) {
          // FIX: a garbled message is ignored (no Reject, no sequence number taken); the peer learns
          // of it from our ResendRequest when its next message arrives with a higher number.
          if (this.state === AWAIT_LOGON) return this.drop();
          if (++this.garbled > MAX_GARBLED) return this.logout('FIX_GARBLED', `${MAX_GARBLED} garbled messages in a row: ${this.parser.reason}`);
        } else {
          return this.logout('FIX_MESSAGE_TOO_LARGE', `a message may be ${this.gateway.limits.maxMessageBytes} bytes at most`);
        }
      }
    } catch (err) {
      this.logout('INTERNAL', (err as Error).message);
    }
  }

  private admitRate(m: FixMessage): boolean {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowCount = 0;
    }
    if (++this.windowCount <= this.gateway.limits.maxMessagesPerSecond) return true;
    this.gateway.refused(fixRoute(m.msgType), 'FIX_RATE_LIMITED');
    this.logout('FIX_RATE_LIMITED', `more than ${this.gateway.limits.maxMessagesPerSecond} messages in one second`);
    return false;
  }

  private handle(m: FixMessage): void {
    if (this.state === LOGGED_OUT) return;
    if (this.state === AWAIT_LOGON) {
      // The first message must be a Logon; anything else is dropped without an answer (FIX).
      if (m.msgType !== MSG_LOGON) return this.drop();
      return this.logon(m);
    }
    const seq = seqNum(m);
    if (seq === null) return this.logout('FIX_INVALID_MESSAGE', 'MsgSeqNum (34) is missing or not a positive integer');
    if (m.get(TAG_SENDER_COMP_ID) !== this.identity!.senderCompId || m.get(TAG_TARGET_COMP_ID) !== this.gateway.compId) {
      return this.logout('FIX_INVALID_MESSAGE', 'SenderCompID (49) or TargetCompID (56) does not match the session');
    }
    const store = this.store!;
    if (m.msgType === MSG_SEQUENCE_RESET && m.get(TAG_GAP_FILL_FLAG) !== 'Y') return this.sequenceReset(m);
    if (seq > store.nextIn) {
      // A gap: ask for what is missing (once), answer what must be answered now, drop the rest
      // (the resend brings it again, in order).
      if (m.msgType === MSG_RESEND_REQUEST) this.resend(m);
      if (m.msgType === MSG_LOGOUT) return this.logout(null, 'logout acknowledged');
      if (this.resendUpTo < seq) {
        this.resendUpTo = seq;
        this.sendAdmin(MSG_RESEND_REQUEST, fixBody(field(TAG_BEGIN_SEQ_NO, store.nextIn) + field(TAG_END_SEQ_NO, 0)));
      }
      return;
    }
    if (seq < store.nextIn) {
      if (m.get(TAG_POSS_DUP_FLAG) === 'Y') {
        if (m.get(TAG_ORIG_SENDING_TIME) === undefined) this.rejectField(m, TAG_ORIG_SENDING_TIME, REJECT_REQUIRED_TAG_MISSING, 'OrigSendingTime (122) is required with PossDupFlag');
        return; // a duplicate of something already processed
      }
      return this.logout('FIX_SEQUENCE_TOO_LOW', `MsgSeqNum too low, expecting ${store.nextIn} but received ${seq}`);
    }
    store.received();
    if (m.get(TAG_SENDING_TIME) === undefined) return this.rejectField(m, TAG_SENDING_TIME, REJECT_REQUIRED_TAG_MISSING, 'SendingTime (52) is required');
    if (m.get(TAG_POSS_DUP_FLAG) === 'Y' && m.get(TAG_ORIG_SENDING_TIME) === undefined) {
      return this.rejectField(m, TAG_ORIG_SENDING_TIME, REJECT_REQUIRED_TAG_MISSING, 'OrigSendingTime (122) is required with PossDupFlag');
    }
    this.dispatch(m);
  }

  private dispatch(m: FixMessage): void {
    switch (m.msgType) {
      case MSG_HEARTBEAT:
        if (this.testRequestAt > 0 && m.get(TAG_TEST_REQ_ID) === this.testRequestId) this.testRequestAt = 0;
        return;
      case MSG_TEST_REQUEST: {
        const id = m.get(TAG_TEST_REQ_ID);
        if (id === undefined) return this.rejectField(m, TAG_TEST_REQ_ID, REJECT_REQUIRED_TAG_MISSING, 'TestReqID (112) is required');
        return this.sendAdmin(MSG_HEARTBEAT, fixBody(field(TAG_TEST_REQ_ID, echo(id))));
      }
      case MSG_RESEND_REQUEST:
        return this.resend(m);
      case MSG_REJECT:
        return;
      case MSG_SEQUENCE_RESET: {
        const next = Number(m.get(TAG_NEW_SEQ_NO));
        if (!Number.isSafeInteger(next) || next <= this.store!.nextIn - 1) {
          return this.rejectField(m, TAG_NEW_SEQ_NO, REJECT_VALUE_INCORRECT, 'NewSeqNo (36) must be above MsgSeqNum');
        }
        this.store!.nextIn = next;
        return;
      }
      case MSG_LOGOUT:
        return this.logout(null, 'logout acknowledged');
      case MSG_LOGON:
        return this.reject(m, REJECT_VALUE_INCORRECT, 'FIX_ALREADY_LOGGED_ON: this session is already logged on', null);
      case MSG_MARKET_DATA_REQUEST:
        return this.market.request(m);
      case MSG_SECURITY_LIST_REQUEST: {
        const body = securityList(m, this.gateway.renderer.instruments);
        if (body === null) return this.rejectField(m, 320, REJECT_REQUIRED_TAG_MISSING, 'SecurityReqID (320) and SecurityListRequestType (559) are required');
        return this.sendApp(MSG_SECURITY_LIST, body);
      }
      default:
        return this.reject(m, REJECT_INVALID_MSG_TYPE, `FIX_INVALID_MESSAGE: MsgType ${echo(m.msgType)} is not supported`, null);
    }
  }

  private logon(m: FixMessage): void {
    const g = this.gateway;
    const sender = m.get(TAG_SENDER_COMP_ID);
    this.logonSender = sender ?? '';
    const seq = seqNum(m);
    const heartBt = Number(m.get(TAG_HEART_BT_INT));
    if (sender === undefined || seq === null || m.get(TAG_TARGET_COMP_ID) !== g.compId) {
      return this.refuse('FIX_LOGON_REFUSED', `a Logon needs SenderCompID (49), MsgSeqNum (34) and TargetCompID (56) = ${g.compId}`);
    }
    if (m.get(TAG_ENCRYPT_METHOD) !== '0') return this.refuse('FIX_LOGON_REFUSED', 'EncryptMethod (98) must be 0 (use TLS for encryption)');
    if (!Number.isInteger(heartBt) || heartBt < 1 || heartBt > MAX_HEART_BT_INT) {
      return this.refuse('FIX_LOGON_REFUSED', `HeartBtInt (108) must be 1..${MAX_HEART_BT_INT}`);
    }
    let verdict: FixIdentity | null | Promise<FixIdentity | null>;
    try {
      verdict = g.authenticator.authenticate(sender, m.get(TAG_USERNAME), m.get(TAG_PASSWORD), this.socket.remoteAddress ?? '');
    } catch (err) {
      return this.refuseCredentials(err);
    }
    if (verdict instanceof Promise) {
      this.authenticating = true;
      verdict.then(
        (identity) => {
          this.authenticating = false;
          if (!this.closed) this.loggedIn(m, identity, seq, heartBt);
          this.drain();
        },
        (err) => this.refuseCredentials(err),
      );
    } else {
      this.loggedIn(m, verdict, seq, heartBt);
    }
  }

  /** A credential check that threw: access control's code (API_KEY_REVOKED, …) is named after FIX_LOGON_REFUSED. */
  private refuseCredentials(err: unknown): void {
    if (this.closed) return;
    const detail = err instanceof BookcastError ? (err.code === 'FIX_LOGON_REFUSED' ? err.message : `${err.code}: ${err.message}`) : 'credentials could not be checked';
    this.refuse('FIX_LOGON_REFUSED', detail);
  }

  private loggedIn(m: FixMessage, identity: FixIdentity | null, seq: number, heartBt: number): void {
    const g = this.gateway;
    if (identity === null) return this.refuse('FIX_LOGON_REFUSED', 'unknown SenderCompID or wrong password');
    const sender = identity.senderCompId;
    // Another connection holds the session: this one is refused, the live one is not touched.
    if (g.live.has(identity.sessionKey)) return this.refuse('FIX_ALREADY_LOGGED_ON', `${sender} is logged on from another connection`);
    const store = g.storeFor(identity.sessionKey);
    const reset = m.get(TAG_RESET_SEQ_NUM_FLAG) === 'Y';
    if (reset) store.reset();
    if (seq < store.nextIn) return this.refuse('FIX_SEQUENCE_TOO_LOW', `MsgSeqNum too low, expecting ${store.nextIn} but received ${seq}`);
    this.identity = identity;
    this.store = store;
    this.compIds = field(TAG_SENDER_COMP_ID, g.compId) + field(TAG_TARGET_COMP_ID, sender);
    this.heartBtMs = heartBt * 1000;
    this.state = LIVE;
    g.live.set(identity.sessionKey, this);
    const session = new Session(g.nextSessionId(), FORMAT_FIX, new FixTransport(this), FIX_DIALECT, g.budget);
    // An API key's caller: revoking the key (or suspending its client) ends the session, as it does a WebSocket's.
    session.caller = identity.caller;
    this.session = session;
    this.market = new FixMarketData(session, g.hub, g.streams, g.renderer, identity.permissions, this);
    g.hub.open(session);
    const gap = seq > store.nextIn;
    if (!gap) store.received();
    this.sendAdmin(MSG_LOGON, fixBody(field(TAG_ENCRYPT_METHOD, 0) + field(TAG_HEART_BT_INT, heartBt) + (reset ? field(TAG_RESET_SEQ_NUM_FLAG, 'Y') : '')));
    if (gap) {
      this.resendUpTo = seq;
      this.sendAdmin(MSG_RESEND_REQUEST, fixBody(field(TAG_BEGIN_SEQ_NO, store.nextIn) + field(TAG_END_SEQ_NO, 0)));
    }
    store.save();
  }

  /** SequenceReset (4) in reset mode: the peer moves our expectation forward, whatever its MsgSeqNum. */
  private sequenceReset(m: FixMessage): void {
    const next = Number(m.get(TAG_NEW_SEQ_NO));
    const store = this.store!;
    if (!Number.isSafeInteger(next) || next < store.nextIn) {
      return this.reject(m, REJECT_VALUE_INCORRECT, `NewSeqNo (36) must not be below ${store.nextIn}`, TAG_NEW_SEQ_NO);
    }
    store.nextIn = next;
  }

  /**
   * ResendRequest (2): application messages still in the store are sent again as they were
   * (PossDupFlag=Y, OrigSendingTime); admin messages and anything no longer kept become
   * SequenceReset-GapFill runs. Market data resent this way is history: RptSeq tells the client
   * which updates it already has.
   */
  private resend(m: FixMessage): void {
    const store = this.store!;
    const begin = Number(m.get(TAG_BEGIN_SEQ_NO));
    let end = Number(m.get(TAG_END_SEQ_NO));
    if (!Number.isSafeInteger(begin) || begin < 1) return this.rejectField(m, TAG_BEGIN_SEQ_NO, REJECT_REQUIRED_TAG_MISSING, 'BeginSeqNo (7) must be a positive integer');
    if (!Number.isSafeInteger(end) || end < 0) return this.rejectField(m, TAG_END_SEQ_NO, REJECT_REQUIRED_TAG_MISSING, 'EndSeqNo (16) must be 0 or a positive integer');
    const last = store.nextOut - 1;
    if (end === 0 || end > last) end = last;
    let gapFrom = 0;
    const now = utcTimestamp(Date.now());
    for (let seq = begin; seq <= end; seq++) {
      const kept = store.stored(seq);
      if (kept === undefined) {
        if (gapFrom === 0) gapFrom = seq;
        continue;
      }
      if (gapFrom > 0) this.gapFill(gapFrom, seq, now);
      gapFrom = 0;
      this.write(frame(`35=${kept.msgType}\x01${this.compIds}34=${seq}\x0143=Y\x0152=${now}\x01122=${kept.sendingTime}\x01`, kept.body));
    }
    if (gapFrom > 0) this.gapFill(gapFrom, end + 1, now);
  }

  private gapFill(from: number, next: number, now: string): void {
    const body = fixBody(field(TAG_GAP_FILL_FLAG, 'Y') + field(TAG_NEW_SEQ_NO, next));
    this.write(frame(`35=${MSG_SEQUENCE_RESET}\x01${this.compIds}34=${from}\x0143=Y\x0152=${now}\x01122=${now}\x01`, body));
  }

  /** Application message: the next MsgSeqNum, kept for resends. */
  sendApp(msgType: string, body: FixBody): void {
    this.send(msgType, body, true);
  }

  private sendAdmin(msgType: string, body: FixBody): void {
    this.send(msgType, body, false);
  }

  private send(msgType: string, body: FixBody, keep: boolean): void {
    if (this.state !== LIVE || this.socket.destroyed) return;
    const now = Date.now();
    const time = utcTimestamp(now);
    const seq = this.store!.claim(msgType, keep && !isAdmin(msgType) ? body : null, time);
    this.write(frame('35=' + msgType + '\x01' + this.compIds + '34=' + seq + '\x0152=' + time + '\x01', body));
  }

  private write(bytes: Uint8Array): void {
    this.lastSentAt = Date.now();
    this.socket.write(bytes);
  }

  refused(route: string, code: string): void {
    this.gateway.refused(route, code);
  }

  /** Reject (3) naming the message and, if known, the tag at fault. */
  private reject(m: FixMessage, reason: number, text: string, tag: number | null): void {
    const seq = m.get(TAG_MSG_SEQ_NUM) ?? '0';
    this.sendAdmin(
      MSG_REJECT,
      fixBody(
        field(TAG_REF_SEQ_NUM, echo(seq)) +
          (tag === null ? '' : field(TAG_REF_TAG_ID, tag)) +
          field(TAG_REF_MSG_TYPE, echo(m.msgType)) +
          field(TAG_SESSION_REJECT_REASON, reason) +
          field(TAG_TEXT, echo(text)),
      ),
    );
  }

  rejectField(m: FixMessage, tag: number, reason: number, text: string): void {
    this.reject(m, reason, `FIX_INVALID_MESSAGE: ${text}`, tag);
  }

  /**
   * Logout (5) with the error code and reason in Text, then the connection ends. `code` null:
   * answering the peer's own Logout.
   */
  logout(code: string | null, reason: string): void {
    if (this.state === LOGGED_OUT) return;
    if (this.state === LIVE) this.sendAdmin(MSG_LOGOUT, code === null ? EMPTY_BODY : fixBody(field(TAG_TEXT, echo(`${code}: ${reason}`))));
    this.state = LOGGED_OUT;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LOGOUT_GRACE_MS).unref();
  }

  /** A Logon refused: a Logout outside any session's numbering (MsgSeqNum 1), then close. */
  private refuse(code: ErrorCode, reason: string): void {
    this.gateway.refused(ROUTE_LOGON, code);
    const now = utcTimestamp(Date.now());
    this.state = LOGGED_OUT;
    const to = echo(this.logonSender) || 'UNKNOWN';
    this.write(frame(`35=${MSG_LOGOUT}\x0149=${this.gateway.compId}\x0156=${to}\x0134=1\x0152=${now}\x01`, fixBody(field(TAG_TEXT, echo(`${code}: ${reason}`)))));
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LOGOUT_GRACE_MS).unref();
  }

  /** Not FIX at all (garbage, or something other than a Logon first): no answer. */
  private drop(): void {
    this.state = LOGGED_OUT;
    this.socket.destroy();
  }

  /** The acceptor's timer: heartbeats when quiet, a TestRequest when the peer is, then give up. */
  tick(now: number): void {
    if (this.state !== LIVE) return;
    if (this.testRequestAt > 0 && now - this.testRequestAt > this.heartBtMs) {
      return this.logout('FIX_HEARTBEAT_TIMEOUT', 'no answer to a TestRequest');
    }
    if (this.testRequestAt === 0 && now - this.lastReceivedAt > this.heartBtMs * 1.2) {
      this.testRequestAt = now;
      this.testRequestId = 'TEST-' + now;
      this.sendAdmin(MSG_TEST_REQUEST, fixBody(field(TAG_TEST_REQ_ID, this.testRequestId)));
    } else if (now - this.lastSentAt >= this.heartBtMs) {
      this.sendAdmin(MSG_HEARTBEAT, EMPTY_BODY);
    }
  }

  flush(): void {
    this.store?.flushIfDirty();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.state = LOGGED_OUT;
    if (this.session !== null) {
      this.market.clear();
      this.gateway.hub.close(this.session);
      this.session = null;
    }
    if (this.identity !== null && this.gateway.live.get(this.identity.sessionKey) === this) this.gateway.live.delete(this.identity.sessionKey);
    this.store?.release();
  }
}

/** The metrics' route label of a message, bounded: the two a refusal is about, and the rest of the session. */
function fixRoute(msgType: string): string {
  return msgType === MSG_LOGON ? ROUTE_LOGON : msgType === MSG_MARKET_DATA_REQUEST ? ROUTE_MARKET_DATA_REQUEST : ROUTE_SESSION;
}

function seqNum(m: FixMessage): number | null {
  const text = m.get(TAG_MSG_SEQ_NUM);
  if (text === undefined || !/^[1-9][0-9]{0,15}$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}
