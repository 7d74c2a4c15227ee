import { LRUCache } from 'lru-cache';
import { BookcastError, ErrorCode, ERRORS } from '../errors';
import type { AuthMode } from '../config';
import type { Caller, LimitDecision, LimitHook, Permission, RouteInfo, TierLimits } from './caller';
import { OPEN_ROUTES } from './route-permissions';
import { anonymousCaller, unrestrictedCaller } from './tiers';


/** What a request or upgrade presented, read synchronously from it; '' when absent. */
export interface Credentials {
  apiKey: string;
  bearer: string;
  ip: string;
}

/**
 * Turns a presented key or token into a Caller (auth-service.ts). Either answer may come at once
 * (a verified key or token in the in-process cache) or later (a database read, a signature check):
 * callers of `admit` handle both. Throws (or rejects with) coded BookcastErrors.
 */
export interface CallerResolver {
  fromApiKey(key: string, ip: string): Caller | Promise<Caller>;
  fromToken(token: string, ip: string): Caller | Promise<Caller>;
}

/** A refusal with headers to send along (a limit hook's Retry-After, RateLimit-Policy …). */
export class AdmissionRefusal extends BookcastError {
  constructor(
    code: ErrorCode,
    message: string | undefined,
    readonly headers: ReadonlyArray<readonly [string, string]>,
  ) {
    super(code, message);
  }
}

/** Anonymous callers kept per address, so a repeat visitor costs a map lookup, not a new object. */
const ANONYMOUS_CACHE = 10_000;

/** `f(x)` now if `x` is a value, after it if it is a promise: the synchronous path stays synchronous. */
export function andThen<T, U>(x: T | Promise<T>, f: (value: T) => U | Promise<U>): U | Promise<U> {
  return x instanceof Promise ? x.then(f) : f(x);
}

/**
 * The one admission decision for every REST route and WebSocket upgrade: who is asking
 * (resolved once per request or connection), may they reach this route, and does the limit hook
 * let them in now. The hot path (a known key or token, an anonymous visitor seen before) is
 * synchronous and allocation-free; only cache misses go asynchronous.
 */
export class Admission {
  /** Rate limits and concurrency caps (limits/); none until one is installed. */
  limit: LimitHook | null = null;
  private readonly anonymous = new LRUCache<string, Caller>({ max: ANONYMOUS_CACHE });

  constructor(
    readonly mode: AuthMode,
    private readonly resolver: CallerResolver | null,
    /** What anonymous callers may do (and everyone under --auth off): the options' public tier; default: tiers.ts's. */
    private readonly anonymousLimits?: TierLimits,
  ) {}

  /** The caller behind the credentials; anonymous when none were presented. */
  resolve(credentials: Credentials): Caller | Promise<Caller> {
    if (this.mode === 'off') return this.anonymousCaller(credentials.ip);
    if (credentials.apiKey !== '' || credentials.bearer !== '') {
      if (this.resolver === null) throw new BookcastError('INVALID_API_KEY', 'this server has no key store');
      return credentials.apiKey !== '' ? this.resolver.fromApiKey(credentials.apiKey, credentials.ip) : this.resolver.fromToken(credentials.bearer, credentials.ip);
    }
    return this.anonymousCaller(credentials.ip);
  }

  /**
   * Resolves, checks the route's permission and asks the limit hook. Throws or rejects with the
   * refusal (AUTH_REQUIRED, PERMISSION_DENIED, a credential's own code, a limit's code).
   * `answerHeaders` hears the headers an allowed limit decision wants on the answer (RateLimit).
   */
  admit(credentials: Credentials, route: RouteInfo, answerHeaders?: (headers: ReadonlyArray<readonly [string, string]>) => void): Caller | Promise<Caller> {
    if (OPEN_ROUTES.has(route.pattern)) {
      // Open routes never refuse for credentials; a failed resolution is an anonymous visit.
      let caller: Caller | Promise<Caller>;
      try {
        caller = this.resolve(credentials);
      } catch {
        caller = this.anonymousCaller(credentials.ip);
      }
      if (caller instanceof Promise) caller = caller.catch(() => this.anonymousCaller(credentials.ip));
      return andThen(caller, (c) => this.limited(c, route, answerHeaders));
    }
    return andThen(this.resolve(credentials), (caller) => {
      this.check(caller, route.permission);
      return this.limited(caller, route, answerHeaders);
    });
  }

  /** Throws AUTH_REQUIRED or PERMISSION_DENIED unless the caller may reach what `permission` guards. */
  check(caller: Caller, permission: Permission | null): void {
    if (this.mode === 'off') return;
    if (caller.kind === 'anonymous' && this.mode === 'required') throw new BookcastError('AUTH_REQUIRED');
    if (permission !== null) requirePermission(caller, permission);
  }

  private limited(caller: Caller, route: RouteInfo, answerHeaders?: (headers: ReadonlyArray<readonly [string, string]>) => void): Caller | Promise<Caller> {
    const hook = this.limit;
    if (hook === null) return caller;
    return andThen(hook(caller, route), (decision) => {
      if (decision.allowed && decision.headers !== undefined && answerHeaders !== undefined) answerHeaders(decision.headers);
      return refuseUnless(decision, caller);
    });
  }

  private anonymousCaller(ip: string): Caller {
    let caller = this.anonymous.get(ip);
    if (caller === undefined) {
      caller = this.mode === 'off' ? unrestrictedCaller(ip, this.anonymousLimits) : anonymousCaller(ip, this.anonymousLimits);
      this.anonymous.set(ip, caller);
    }
    return caller;
  }
}

function refuseUnless(decision: LimitDecision, caller: Caller): Caller {
  if (decision.allowed) return caller;
  const code = decision.code !== undefined && decision.code in ERRORS ? (decision.code as ErrorCode) : 'RATE_LIMITED';
  throw new AdmissionRefusal(code, decision.message, decision.headers ?? []);
}

/**
 * Throws unless the caller holds `permission`: AUTH_REQUIRED for an anonymous caller (a key or
 * token would unlock it), PERMISSION_DENIED for one whose key or tier lacks it. Under --auth off
 * every caller holds every permission.
 */
export function requirePermission(caller: Caller, permission: Permission): void {
  if (caller.permissions.has(permission)) return;
  if (caller.kind === 'anonymous') throw new BookcastError('AUTH_REQUIRED', `"${permission}" needs an API key or a bearer token; anonymous callers have the public tier`);
  throw new BookcastError('PERMISSION_DENIED', `this ${caller.kind === 'key' ? 'key' : 'token'} (tier ${caller.tier}) does not include "${permission}"`);
}
