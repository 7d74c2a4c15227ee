import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Caller } from '../auth/caller';
import { BookcastError, ERRORS } from '../errors';
import type { RateLimiter } from '../limits/rate-limiter';
import { rateHeaders } from '../limits/rate-limit-headers';
import { planOf, RateDecision, WINDOW_NAMES } from '../limits/rate-windows';
import type { UsageRecorder } from '../accounting/usage-recorder';
import { nowMicros } from '../util/clock';
import { AdmittedResponse } from './admitted-response';
import { CopiedRequest, parameterCount } from './copied-request';
import { errorBody, sendError } from './http';

/** Who is asking, from the request and the peer address (auth/ resolves keys and tokens). Throws a coded refusal. */
export type CallerResolver = (req: HttpRequest, ip: string) => Caller;

/** Signs a snapshot answer's exact body bytes; returns the header to add. */
export type BodySigner = (body: Uint8Array | string) => [string, string];

export interface AdmissionParts {
  resolve: CallerResolver;
  /** Request budgets (caller.limits.rate, bucket `rest`); null: none. */
  limits: RateLimiter | null;
  /** Usage accounting; null: off. */
  usage: UsageRecorder | null;
  /** Snapshot signatures (--sign-snapshots); null: off. */
  signer: BodySigner | null;
}

/** A route handler once its request is admitted. `req` is a copy when the admission had to wait. */
export type AdmittedHandler = (res: HttpResponse, req: HttpRequest, caller: Caller) => void;

export interface RouteOptions {
  /** Not counted against request budgets (health: monitors poll it). */
  unlimited?: boolean;
  /** The answer is a snapshot a client may want to prove came from this server: signed when signing is on. */
  signed?: boolean;
}

const admissions = new WeakMap<TemplatedApp, Admission>();

/** The admission of `app`'s routes (route() and routeAsync() in http.ts look it up when they register). */
export function admissionOf(app: TemplatedApp): Admission {
  const admission = admissions.get(app);
  if (admission === undefined) throw new BookcastError('INTERNAL', 'routes registered before the admission was installed');
  return admission;
}

/**
 * What every REST request passes before its route runs: who is asking (a Caller), whether its
 * request budget allows one more (429 RATE_LIMITED with Retry-After and the RateLimit headers
 * otherwise; the RateLimit headers go on every answer), and, once answered, a usage row. A
 * budget kept in Redis answers asynchronously; the request is then copied (uWS's request object
 * dies when the handler returns) and a body that arrives meanwhile is kept for the route.
 */
export class Admission {
  constructor(private readonly parts: AdmissionParts) {}

  install(app: TemplatedApp): void {
    admissions.set(app, this);
  }

  /** Wraps a handler for `method` `pattern` (the pattern names the endpoint in usage rows). */
  wrap(method: 'get' | 'post', pattern: string, handler: AdmittedHandler, options: RouteOptions = {}): (res: HttpResponse, req: HttpRequest) => void {
    const parameters = parameterCount(pattern);
    const methodName = method.toUpperCase();
    const { resolve, limits, usage } = this.parts;
    const signer = options.signed === true ? this.parts.signer : null;
    return (res, req) => {
      const started = performance.now();
      const ip = Buffer.from(res.getRemoteAddressAsText()).toString();
      const requestBytes = Number(req.getHeader('content-length')) || 0;
      const userAgent = usage === null ? '' : req.getHeader('user-agent');
      let caller: Caller | null = null;
      const admitted = new AdmittedResponse(res, {
        sign: signer,
        done: (status, bytes) =>
          usage?.record({
            clientId: caller?.clientId ?? null,
            keyId: caller?.keyId ?? null,
            subject: caller?.subject ?? `ip:${ip}`,
            endpoint: pattern,
            method: methodName,
            status,
            responseTimeMs: performance.now() - started,
            requestBytes,
            responseBytes: bytes,
            timeUs: nowMicros(),
            userAgent,
            ip,
          }),
      });
      const reply = admitted as unknown as HttpResponse;
      try {
        caller = resolve(req, ip);
      } catch (err) {
        if (err instanceof BookcastError) sendError(reply, err.code, err.message);
        else sendError(reply, 'INTERNAL');
        return;
      }
      if (limits === null || options.unlimited === true || !planOf(caller.limits.rate).limited) {
        run(handler, admitted, req, caller);
        return;
      }
      const decision = limits.check(caller.subject, 'rest', caller.limits.rate);
      if (!(decision instanceof Promise)) {
        if (decided(admitted, caller, decision)) run(handler, admitted, req, caller);
        return;
      }
      const copy = new CopiedRequest(req, parameters) as unknown as HttpRequest;
      if (method === 'post') admitted.holdBody();
      const who = caller;
      void decision.then((d) => {
        if (admitted.aborted) return;
        res.cork(() => {
          if (decided(admitted, who, d)) run(handler, admitted, copy, who);
        });
      });
    };
  }
}

/** Adds the rate headers; answers 429 RATE_LIMITED and returns false when the budget refuses. */
function decided(res: AdmittedResponse, caller: Caller, d: RateDecision): boolean {
  const h = rateHeaders(caller.limits.rate, d);
  res.addHeader('ratelimit-policy', h.policy);
  res.addHeader('ratelimit', h.state);
  if (h.retryAfter === null) return true;
  const count = d.local ? "this server's count" : 'the shared count';
  res.cork(() => {
    res.writeStatus(`${ERRORS.RATE_LIMITED.status} Too Many Requests`)
      .writeHeader('content-type', 'application/json')
      .writeHeader('retry-after', h.retryAfter!)
      .end(errorBody('RATE_LIMITED', `request budget of the ${WINDOW_NAMES[d.window]} window spent (${count}); retry after ${h.retryAfter} s`));
  });
  return false;
}

function run(handler: AdmittedHandler, res: AdmittedResponse, req: HttpRequest, caller: Caller): void {
  const reply = res as unknown as HttpResponse;
  try {
    handler(reply, req, caller);
  } catch (err) {
    if (err instanceof BookcastError) sendError(reply, err.code, err.message);
    else sendError(reply, 'INTERNAL');
  }
}
