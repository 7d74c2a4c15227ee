import { performance } from 'node:perf_hooks';
import type { HttpRequest, HttpResponse, RecognizedString, TemplatedApp } from 'uWebSockets.js';
import type { Caller, RouteInfo } from '../auth/caller';
import type { UsageRecord } from '../store/store';
import { epochMicros } from '../util/clock';
import { PeerAddress, peerAddress } from './peer-address';
import { CONTENT_LENGTH, STATUS_OK_LINE, statusLine, statusOf, USER_AGENT } from './uws-text';

export interface MeterParts {
  /** Takes each answered request's usage row (accounting/usage-batcher.ts); null: accounting off. */
  record: ((row: UsageRecord) => void) | null;
  /** Signs a snapshot body, returns the header value; null: --sign-snapshots off. */
  sign: ((body: Uint8Array | string) => string) | null;
}

/** Route patterns whose answers are snapshots a client may want to prove: signed when signing is on. */
const SIGNED = new Set(['/api/v1/market/:symbol/orderbook', '/api/v1/market/:symbol/ticker', '/api/v1/market-data/:symbol/latest', '/api/v1/market-data/bulk']);
/** `Bookcast-Signature: keyid="…", sig="…"`: Ed25519 over the exact body bytes. */
export const SIGNATURE_HEADER = 'bookcast-signature';

const meters = new WeakMap<TemplatedApp, AnswerMeter>();

/**
 * What is measured and added to every REST answer once it is written: a usage row (status, bytes,
 * time, who), the RateLimit headers of an allowed request, and, for snapshots, a signature over the body. route() and routeAsync() (http.ts)
 * hand handlers a MeteredResponse when the app has a meter; without one, the uWS response itself.
 */
export class AnswerMeter {
  constructor(
    private readonly parts: MeterParts,
    private readonly keyId: string,
  ) {}

  install(app: TemplatedApp): void {
    meters.set(app, this);
  }

  /**
   * What opens the response for one request of `route` (it reads what it needs of `req` at once:
   * uWS reuses it afterwards; `started` is performance.now() as the request arrived). Whether the
   * route's answers are signed is decided here, once per route.
   */
  opener(route: RouteInfo): (res: HttpResponse, req: HttpRequest, started: number) => HttpResponse {
    const { record } = this.parts;
    const sign = SIGNED.has(route.pattern) ? this.parts.sign : null;
    return (res, req, started) => new MeteredResponse(res, req, route, record, sign, this.keyId, started) as unknown as HttpResponse;
  }
}

/** The app's meter, or null (tests that build routes without a server). */
export function meterOf(app: TemplatedApp): AnswerMeter | null {
  return meters.get(app) ?? null;
}

/** Headers every answer to this request carries (an allowed rate-limit decision's RateLimit state). */
export function answerHeaders(res: HttpResponse, headers: ReadonlyArray<readonly [string, string]>): void {
  if (res instanceof MeteredResponse) res.headers = headers;
}

/**
 * The peer's address, read once per request: the meter reads it when it opens the response, and
 * admission's credentials take the same one instead of asking uWS again (each read is a
 * getpeername system call).
 */
export function remotePeer(res: HttpResponse): PeerAddress {
  return res instanceof MeteredResponse ? res.peer : peerAddress(res);
}

/** The peer's address as text (see remotePeer). */
export function remoteAddress(res: HttpResponse): string {
  return remotePeer(res).text;
}

/** What a body signature covers: the text, or the bytes of a buffer or view as written. */
function bodyView(body: RecognizedString | undefined): string | Uint8Array {
  if (body === undefined) return '';
  if (typeof body === 'string') return body;
  return ArrayBuffer.isView(body) ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength) : new Uint8Array(body);
}

/**
 * Called once the request's handler has returned: a response still unanswered listens for the
 * client going away from now on (see MeteredResponse.listenForAbort), and corks for itself.
 */
export function handlerReturned(res: HttpResponse): void {
  if (res instanceof MeteredResponse) {
    res.inHandler = false;
    res.listenForAbort();
  }
}

/** Who was admitted, for the usage row (called once admission resolved the caller). */
export function noteCaller(res: HttpResponse, caller: Caller): void {
  if (res instanceof MeteredResponse) res.caller = caller;
}

/**
 * A uWS response that counts what it sends and signs snapshot bodies. uWS keeps one onAborted
 * handler per response (the last registered); this one keeps them all, so the meter, admission
 * and the route can each listen.
 *
 * Its own abort handler is registered with uWS only when the answer is not written before the
 * handler returns (the first onAborted, or handlerReturned): a synchronous answer cannot be
 * aborted, and most snapshot answers are synchronous, so they skip a native call and the
 * persistent handle uWS makes for every abort handler.
 */
class MeteredResponse {
  caller: Caller | null = null;
  /**
   * True until the route handler returns (handlerReturned). uWS corks the socket around the
   * handler, so a cork asked for meanwhile runs its callback at once: no call into uWS and back.
   */
  inHandler = true;
  /** Written right after the status line, whatever the handler answers. */
  headers: ReadonlyArray<readonly [string, string]> | null = null;
  private status = 200;
  private statusWritten = false;
  private done = false;
  private readonly requestBytes: number;
  private readonly userAgent: string;
  readonly peer: PeerAddress;
  /** Made by the first onAborted: most answers are written before the handler returns. */
  private abortHandlers: (() => void)[] | null = null;
  private listening = false;

  constructor(
    private readonly res: HttpResponse,
    req: HttpRequest,
    private readonly route: RouteInfo,
    private readonly record: ((row: UsageRecord) => void) | null,
    private readonly sign: ((body: Uint8Array | string) => string) | null,
    private readonly keyId: string,
    private readonly started: number,
  ) {
    this.requestBytes = Number(req.getHeader(CONTENT_LENGTH)) || 0;
    this.userAgent = record === null ? '' : req.getHeader(USER_AGENT);
    this.peer = peerAddress(res);
  }

  /** Registers the meter's abort handler with uWS, once, unless the answer is already written. */
  listenForAbort(): void {
    if (this.listening || this.done) return;
    this.listening = true;
    this.res.onAborted(() => {
      this.finish(499, 0);
      for (const h of this.abortHandlers ?? []) h();
    });
  }

  onAborted(handler: () => void): this {
    (this.abortHandlers ??= []).push(handler);
    this.listenForAbort();
    return this;
  }

  onData(handler: (chunk: ArrayBuffer, isLast: boolean) => void): this {
    this.res.onData(handler);
    return this;
  }

  cork(cb: () => void): this {
    if (this.inHandler) cb();
    else this.res.cork(cb);
    return this;
  }

  writeStatus(status: RecognizedString): this {
    // uWS writes 200 OK by itself before the first header or the body: one call into it fewer.
    if (status !== STATUS_OK_LINE) this.res.writeStatus(status);
    this.status = statusOf(status);
    this.statusWritten = true;
    if (this.headers !== null) for (const [name, value] of this.headers) this.res.writeHeader(name, value);
    return this;
  }

  writeHeader(name: RecognizedString, value: RecognizedString): this {
    this.res.writeHeader(name, value);
    return this;
  }

  end(body?: RecognizedString, closeConnection?: boolean): this {
    if (!this.statusWritten) this.writeStatus(statusLine(200));
    if (this.sign !== null && this.status === 200) {
      this.res.writeHeader(SIGNATURE_HEADER, `keyid="${this.keyId}", sig="${this.sign(bodyView(body))}"`);
    }
    this.res.end(body, closeConnection);
    // ArrayBuffers and their views both say their byteLength: no view is made just to measure.
    this.finish(this.status, body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    return this;
  }

  getRemoteAddressAsText(): ArrayBuffer {
    return this.res.getRemoteAddressAsText();
  }

  getRemoteAddress(): ArrayBuffer {
    return this.res.getRemoteAddress();
  }

  getProxiedRemoteAddressAsText(): ArrayBuffer {
    return this.res.getProxiedRemoteAddressAsText();
  }

  private finish(status: number, bytes: number): void {
    if (this.done) return;
    this.done = true;
    if (this.record === null) return;
    const caller = this.caller;
    const now = performance.now();
    this.record({
      time: epochMicros(now),
      responseTimeMs: now - this.started,
      requestBytes: this.requestBytes,
      responseBytes: bytes,
      status,
      subject: caller?.subject ?? `ip:${this.peer.text}`,
      clientId: caller?.clientId ?? null,
      keyId: caller?.keyId ?? null,
      endpoint: this.route.pattern,
      method: this.route.method,
      userAgent: this.userAgent,
      ip: this.peer.text,
    });
  }
}
