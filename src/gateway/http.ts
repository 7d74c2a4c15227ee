// Node's global `performance` is a lazy accessor: optimized code calls its getter on every read.
import { performance } from 'node:perf_hooks';
import type { HttpRequest, HttpResponse, TemplatedApp, WebSocketBehavior } from 'uWebSockets.js';
import { BookcastError, ErrorCode, ERRORS } from '../errors';
import { formatTimestampMicros, parseTimestamp } from '../wire/timestamp';
import { nowMicros } from '../util/clock';
import { log } from '../util/log';
import { Admission, AdmissionRefusal, Credentials } from '../auth/admission';
import type { Caller, Permission, RouteInfo } from '../auth/caller';
import { routePermission } from '../auth/route-permissions';
import { BufferedBody, parameterCount, RequestCopy } from './request-copy';
import { answerHeaders, handlerReturned, meterOf, noteCaller, remotePeer } from './answer-meter';
import { AUTHORIZATION, CONTENT_TYPE, contentType as contentTypeBytes, statusLine, X_API_KEY } from './uws-text';

/**
 * Told of every answer a `route` or `routeAsync` handler gives: its route pattern, status, time
 * taken, and the error catalog's code when the answer is a coded error (null otherwise).
 */
export interface RequestObserver {
  answered(pattern: string, status: number, seconds: number, code: string | null): void;
}

const observers = new WeakMap<TemplatedApp, RequestObserver>();
/**
 * The request watched last, in variables rather than an object: most answers are written before
 * their handler returns, so the request a status line answers is nearly always this one, and the
 * common path needs neither an allocation nor a weak-table entry (a runtime call to set and
 * another to delete, per request).
 */
let lastRes: HttpResponse | null = null;
let lastObserver: RequestObserver | null = null;
let lastPattern = '';
let lastStart = 0;
/** Observed requests still unanswered when another one was watched (answered later, asynchronously). */
const unanswered = new WeakMap<HttpResponse, { observer: RequestObserver; pattern: string; start: number }>();

/** Routes registered on `app` from now on report their answers to `observer` (metrics). */
export function observeRequests(app: TemplatedApp, observer: RequestObserver): void {
  observers.set(app, observer);
}

/** Moves the last watched request, unanswered, into the table (it will be answered later). */
function setAsideLast(): void {
  if (lastRes !== null) unanswered.set(lastRes, { observer: lastObserver!, pattern: lastPattern, start: lastStart });
  lastRes = null;
  lastObserver = null;
}

/** `start`: performance.now() as the request arrived (read once, for the meter too). */
function watch(app: TemplatedApp, res: HttpResponse, pattern: string, start: number): void {
  const observer = observers.get(app);
  if (observer === undefined) return;
  setAsideLast();
  lastRes = res;
  lastObserver = observer;
  lastPattern = pattern;
  lastStart = start;
}

/** Every status line written for a route's request passes here, whatever wrote it (sync, async, error). */
function answered(res: HttpResponse, status: number, code: string | null = null): void {
  if (res === lastRes) {
    const observer = lastObserver!;
    lastRes = null;
    lastObserver = null;
    observer.answered(lastPattern, status, (performance.now() - lastStart) / 1000, code);
    return;
  }
  const request = unanswered.get(res);
  if (request === undefined) return;
  unanswered.delete(res);
  request.observer.answered(request.pattern, status, (performance.now() - request.start) / 1000, code);
}

/** A handler admitted later answers through `view` (a BufferedBody's response): its answer is observed as the request's. */
function watchAs(res: HttpResponse, view: HttpResponse): HttpResponse {
  if (res === lastRes) {
    lastRes = view;
    return view;
  }
  const request = unanswered.get(res);
  if (request !== undefined) {
    unanswered.delete(res);
    unanswered.set(view, request);
  }
  return view;
}

/**
 * An answer body: a buffer (uws-text.ts utf8Buffer) is copied by uWS as it is, a string is
 * measured and encoded as UTF-8 on every answer. A buffer, not a view: uWS reads a view's buffer,
 * offset and length, and a view's three getters cost more again in the caller (each a generic
 * property load in optimized code: ~760 instructions an answer under callgrind).
 */
export type Body = string | ArrayBuffer;

export function sendJson(res: HttpResponse, status: number, body: Body): void {
  sendBody(res, status, 'application/json', body);
}

export function sendBody(res: HttpResponse, status: number, contentType: string, body: Body): void {
  answered(res, status);
  res.cork(() => {
    res.writeStatus(statusLine(status)).writeHeader(CONTENT_TYPE, contentTypeBytes(contentType)).end(body);
  });
}

/** The JSON error body every REST error uses: {"error": {"code", "message", "timestamp"}}. */
export function errorBody(code: ErrorCode, message?: string): string {
  return JSON.stringify({ error: { code, message: message ?? ERRORS[code].message, timestamp: formatTimestampMicros(nowMicros()) } });
}

/** Seconds a refused client should wait before trying again (the Retry-After header), per code. */
const RETRY_AFTER_S: Partial<Record<ErrorCode, string>> = { BUSY: '1', TOO_MANY_HEAVY_REQUESTS: '1' };

export function sendError(res: HttpResponse, code: ErrorCode, message?: string): void {
  answered(res, ERRORS[code].status, code);
  const retryAfter = RETRY_AFTER_S[code];
  if (retryAfter === undefined) {
    sendJson(res, ERRORS[code].status, errorBody(code, message));
    return;
  }
  res.cork(() => {
    res.writeStatus(statusLine(ERRORS[code].status)).writeHeader(CONTENT_TYPE, contentTypeBytes('application/json')).writeHeader('retry-after', retryAfter).end(errorBody(code, message));
  });
}

/**
 * Reads the query string strictly: every key must be one the endpoint knows, each at most once.
 * Returns the values, or throws INVALID_PARAMETER naming the offending key.
 */
export function readQuery(req: HttpRequest, allowed: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  const query = req.getQuery() ?? '';
  if (query === '') return values;
  if (isPlainQuery(query)) {
    // Nothing to decode: split as URLSearchParams would (empty pairs skipped, a key without '=' has value '').
    for (let from = 0; from <= query.length; ) {
      let to = query.indexOf('&', from);
      if (to === -1) to = query.length;
      if (to > from) {
        const eq = query.indexOf('=', from);
        if (eq === -1 || eq > to) addQueryValue(values, allowed, query.slice(from, to), '');
        else addQueryValue(values, allowed, query.slice(from, eq), query.slice(eq + 1, to));
      }
      from = to + 1;
    }
    return values;
  }
  for (const [key, value] of new URLSearchParams(query)) addQueryValue(values, allowed, key, value);
  return values;
}

const PERCENT = 0x25;
const PLUS = 0x2b;
const QUESTION_MARK = 0x3f;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * A query with no percent escape, no '+' and no '?' (URLSearchParams drops a leading one): its
 * keys and values are its text. A loop, not a regular expression: it runs on every request, and
 * the two expressions it and intParameter tested cost ~340 instructions an answer (callgrind).
 */
function isPlainQuery(query: string): boolean {
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i);
    if (c === PERCENT || c === PLUS || c === QUESTION_MARK) return false;
  }
  return true;
}

/**
 * The value of one to nine decimal digits and nothing else, or -1. Read here, not by Number():
 * V8 converts a string by way of its hash (an array index is cached there), which a query's
 * fresh string has yet to compute.
 */
function shortNatural(text: string): number {
  if (text.length === 0 || text.length > 9) return -1;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < DIGIT_0 || c > DIGIT_9) return -1;
    value = value * 10 + (c - DIGIT_0);
  }
  return value;
}

function addQueryValue(values: Map<string, string>, allowed: readonly string[], key: string, value: string): void {
  const known = allowed.indexOf(key);
  if (known === -1) {
    throw new BookcastError('INVALID_PARAMETER', `unknown parameter "${key}"${allowed.length ? `; allowed: ${allowed.join(', ')}` : ''}`);
  }
  // The endpoint's own string keys the map: its hash is kept, the request's copy would be hashed anew.
  const name = allowed[known];
  if (values.has(name)) throw new BookcastError('INVALID_PARAMETER', `parameter "${key}" given twice`);
  values.set(name, value);
}

/** An integer parameter in [min, max], or its default when absent. */
export function intParameter(values: Map<string, string>, key: string, min: number, max: number, fallback: number): number {
  const text = values.get(key);
  if (text === undefined) return fallback;
  const value = shortNatural(text);
  if (value < 0 || value < min || value > max) {
    throw new BookcastError('INVALID_PARAMETER', `"${key}" must be an integer from ${min} to ${max}`);
  }
  return value;
}

/**
 * A time parameter: ISO-8601 (to the microsecond, like every timestamp bookcast writes) or epoch
 * milliseconds; returns microseconds since the epoch, or `fallback` when absent.
 */
export function timeParameter(values: Map<string, string>, key: string, fallback: number): number {
  const text = values.get(key);
  if (text === undefined) return fallback;
  return timeInRange(parseTimestamp(text), key);
}

/** Times a request may name: 1970-01-01 up to (not including) 2200-01-01, in µs. */
export const EARLIEST_TIME_US = 0;
export const LATEST_TIME_US = Date.UTC(2200, 0, 1) * 1000;

/**
 * A requested time (µs) as a whole microsecond within [EARLIEST_TIME_US, LATEST_TIME_US), or
 * INVALID_PARAMETER naming `key`. Beyond that range a time is no one's data, and it would reach
 * the database as a bigint it refuses (or past 2^53, not an exact integer at all).
 */
export function timeInRange(us: number, key: string): number {
  if (!Number.isFinite(us)) throw new BookcastError('INVALID_PARAMETER', `"${key}" must be an ISO-8601 time or epoch milliseconds`);
  if (us < EARLIEST_TIME_US || us >= LATEST_TIME_US) {
    throw new BookcastError('INVALID_PARAMETER', `"${key}" must be from 1970-01-01T00:00:00Z up to 2200-01-01T00:00:00Z`);
  }
  return Math.floor(us);
}

/** Each app's admission (server.ts installs it); an app without one admits everyone as before access control. */
const ADMISSIONS = new WeakMap<TemplatedApp, Admission>();
const OPEN_DOOR = new Admission('off', null);

export function installAdmission(app: TemplatedApp, admission: Admission): void {
  ADMISSIONS.set(app, admission);
}

export function admissionOf(app: TemplatedApp | null): Admission {
  return (app !== null ? ADMISSIONS.get(app) : undefined) ?? OPEN_DOOR;
}

/** A method bookcast serves on a path: HTTP methods, or `ws` for a WebSocket upgrade. */
export type ServedMethod = 'get' | 'post' | 'delete' | 'ws';

/** One served endpoint, with the pattern as uWS takes it (`:symbol` for a path parameter). */
export interface ServedRoute {
  method: ServedMethod;
  pattern: string;
}

/**
 * The endpoints each app serves, recorded where they are registered (`route`, `routeAsync`,
 * `wsRoute`). The API-description test reads it from a running server and fails when a served
 * endpoint is not documented or a documented one is not served, so registering through these
 * helpers is what makes a new endpoint visible to that check.
 */
const served = new WeakMap<TemplatedApp, ServedRoute[]>();

export function recordRoute(app: TemplatedApp, method: ServedMethod, pattern: string): void {
  let list = served.get(app);
  if (list === undefined) served.set(app, (list = []));
  list.push({ method, pattern });
}

/** Every endpoint registered on `app` through this module, in registration order. */
export function servedRoutes(app: TemplatedApp): readonly ServedRoute[] {
  return served.get(app) ?? [];
}

/** Registers a WebSocket endpoint and records it (see servedRoutes). */
export function wsRoute<T>(app: TemplatedApp, pattern: string, behavior: WebSocketBehavior<T>): void {
  recordRoute(app, 'ws', pattern);
  app.ws<T>(pattern, behavior);
}

let internalErrors = 0;

/** A handler failed unexpectedly: the client gets INTERNAL and an id the operator finds in the log. */
function internalError(res: HttpResponse, pattern: string, err: unknown): void {
  const id = ++internalErrors;
  log.error({ req: id, route: pattern, err }, 'a REST handler failed');
  sendError(res, 'INTERNAL', `${ERRORS.INTERNAL.message} (request ${id})`);
}

/**
 * What a REST request presents: `X-API-Key`, or `Authorization: Bearer <token>`, and the peer
 * address (connection-limits' key: an IPv6 client counts by its /64). Reads `req` synchronously.
 * Under `--auth off` a key or token changes nothing (every caller is its address's unrestricted
 * one), so neither header is read: two calls into uWS an answer.
 */
export function requestCredentials(res: HttpResponse, req: HttpRequest, admission: Admission): Credentials {
  const ip = remotePeer(res).key;
  if (admission.mode === 'off') return { apiKey: '', bearer: '', ip };
  const authorization = req.getHeader(AUTHORIZATION);
  return {
    apiKey: req.getHeader(X_API_KEY),
    bearer: authorization !== '' && /^bearer /i.test(authorization) ? authorization.slice(7).trim() : '',
    ip,
  };
}

/** A refusal as its coded answer, with the headers a limit hook asked for. */
export function sendRefusal(res: HttpResponse, err: unknown): void {
  if (err instanceof AdmissionRefusal && err.headers.length > 0) {
    answered(res, err.status, err.code);
    res.cork(() => {
      res.writeStatus(statusLine(err.status)).writeHeader(CONTENT_TYPE, contentTypeBytes('application/json'));
      for (const [name, value] of err.headers) res.writeHeader(name, value);
      res.end(errorBody(err.code, err.message));
    });
  } else if (err instanceof BookcastError) sendError(res, err.code, err.message);
  else sendError(res, 'INTERNAL');
}

/** A handler's failure as its answer: a coded refusal, or INTERNAL with an id logged for the operator. */
function refuse(res: HttpResponse, pattern: string, err: unknown): void {
  if (err instanceof BookcastError) sendRefusal(res, err);
  else internalError(res, pattern, err);
}

/** Patterns whose 405 catch-all is registered, per app: uWS aborts on a second `any` for one pattern (GET and POST on one path). */
const CATCH_ALLS = new WeakMap<TemplatedApp, Set<string>>();

function methodNotAllowed(app: TemplatedApp, pattern: string): void {
  let patterns = CATCH_ALLS.get(app);
  if (patterns === undefined) CATCH_ALLS.set(app, (patterns = new Set()));
  if (patterns.has(pattern)) return;
  patterns.add(pattern);
  app.any(pattern, (res) => {
    watch(app, res, pattern, performance.now());
    sendError(res, 'METHOD_NOT_ALLOWED');
  });
}

/** Handlers receive the admitted caller; most ignore it, some check a permission beyond the route's. */
export type RouteHandler = (res: HttpResponse, req: HttpRequest, caller: Caller) => void;

/**
 * Registers a synchronous handler behind admission: the caller is resolved from the request's
 * credentials, checked against the route's permission (auth/route-permissions.ts) and the limit
 * hook; a refusal answers with its code. When admission must wait (a key or token not yet in the
 * cache), the handler runs later on a copy of the request (and, for POST, the body read
 * meanwhile). A BookcastError the handler throws becomes its coded JSON answer, any other error
 * INTERNAL; every other method on the same path answers 405.
 */
export function route(app: TemplatedApp, method: 'get' | 'post' | 'delete', pattern: string, handler: RouteHandler, permission: Permission | null = routePermission(pattern)): void {
  const info: RouteInfo = { method: method.toUpperCase(), pattern, permission };
  const parameters = parameterCount(pattern);
  recordRoute(app, method, pattern);
  const run = (res: HttpResponse, req: HttpRequest, caller: Caller): void => {
    try {
      handler(res, req, caller);
    } catch (err) {
      refuse(res, pattern, err);
    }
  };
  const meter = meterOf(app);
  const serve = (res: HttpResponse, req: HttpRequest): void => {
    let admitted: Caller | Promise<Caller>;
    try {
      const admission = admissionOf(app);
      admitted = admission.admit(requestCredentials(res, req, admission), info, meter === null ? undefined : (headers) => answerHeaders(res, headers));
    } catch (err) {
      sendRefusal(res, err);
      return;
    }
    if (!(admitted instanceof Promise)) {
      noteCaller(res, admitted);
      run(res, req, admitted);
      return;
    }
    const copy = new RequestCopy(req, parameters).asRequest();
    const body = new BufferedBody(res);
    admitted.then(
      (caller) => {
        noteCaller(res, caller);
        if (!body.aborted) res.cork(() => run(watchAs(res, body.response()), copy, caller));
      },
      (err) => {
        if (!body.aborted) sendRefusal(res, err);
      },
    );
  };
  // uWS names DELETE's handler `del`.
  app[method === 'delete' ? 'del' : method](pattern, meteredHandler(app, info, serve));
  methodNotAllowed(app, pattern);
}

/**
 * The uWS handler around `serve`: the response metered (when the app has a meter) and watched
 * for metrics, and told when the handler returned, however it returned.
 */
function meteredHandler(app: TemplatedApp, info: RouteInfo, serve: (res: HttpResponse, req: HttpRequest) => void): (raw: HttpResponse, req: HttpRequest) => void {
  const open = meterOf(app)?.opener(info) ?? null;
  return (raw, req) => {
    const started = performance.now();
    const res = open === null ? raw : open(raw, req, started);
    watch(app, res, info.pattern, started);
    try {
      serve(res, req);
    } finally {
      handlerReturned(res);
    }
  };
}

/** An answer computed asynchronously (history reads). */
export interface Answer {
  status: number;
  body: string;
  contentType?: string;
}

/**
 * Registers an asynchronous GET handler behind admission (as in `route`). The handler must read
 * everything it needs from `req` before its first await (uWS reuses the request object
 * afterwards); the answer is corked, and dropped if the client went away meanwhile. Errors answer
 * as in `route`.
 */
export function routeAsync(app: TemplatedApp, pattern: string, handler: (req: HttpRequest, caller: Caller) => Promise<Answer>, permission: Permission | null = routePermission(pattern)): void {
  const info: RouteInfo = { method: 'GET', pattern, permission };
  const parameters = parameterCount(pattern);
  recordRoute(app, 'get', pattern);
  const meter = meterOf(app);
  const serve = (res: HttpResponse, req: HttpRequest): void => {
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    const answer = (answer: Answer): void => {
      if (!aborted) sendBody(res, answer.status, answer.contentType ?? 'application/json', answer.body);
    };
    const fail = (err: unknown): void => {
      if (!aborted) refuse(res, pattern, err);
    };
    let admitted: Caller | Promise<Caller>;
    try {
      const admission = admissionOf(app);
      admitted = admission.admit(requestCredentials(res, req, admission), info, meter === null ? undefined : (headers) => answerHeaders(res, headers));
    } catch (err) {
      fail(err);
      return;
    }
    if (!(admitted instanceof Promise)) {
      noteCaller(res, admitted);
      handler(req, admitted).then(answer, fail);
      return;
    }
    const copy = new RequestCopy(req, parameters).asRequest();
    admitted
      .then((caller) => {
        noteCaller(res, caller);
        return handler(copy, caller);
      })
      .then(answer, fail);
  };
  app.get(pattern, meteredHandler(app, info, serve));
  methodNotAllowed(app, pattern);
}
