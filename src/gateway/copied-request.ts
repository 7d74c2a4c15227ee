import type { HttpRequest } from 'uWebSockets.js';

/**
 * What a handler reads of a request, copied out of uWS's HttpRequest, which is valid only until
 * the handler that received it returns: an admission that waits (a Redis round trip) hands the
 * route this copy instead. Only the methods bookcast's handlers use are here.
 */
export class CopiedRequest {
  private readonly headers = new Map<string, string>();
  private readonly parameters: string[] = [];
  private readonly url: string;
  private readonly method: string;
  private readonly query: string;
  private queryValues: URLSearchParams | null = null;

  constructor(req: HttpRequest, parameterCount: number) {
    req.forEach((name, value) => this.headers.set(name, value));
    for (let i = 0; i < parameterCount; i++) this.parameters.push(req.getParameter(i) ?? '');
    this.url = req.getUrl();
    this.method = req.getMethod();
    this.query = req.getQuery() ?? '';
  }

  getHeader(name: string): string {
    return this.headers.get(name.toLowerCase()) ?? '';
  }

  getParameter(index: number): string | undefined {
    return this.parameters[index];
  }

  getUrl(): string {
    return this.url;
  }

  getMethod(): string {
    return this.method;
  }

  getQuery(key?: string): string | undefined {
    if (key === undefined) return this.query;
    this.queryValues ??= new URLSearchParams(this.query);
    return this.queryValues.get(key) ?? undefined;
  }

  forEach(cb: (name: string, value: string) => void): void {
    for (const [name, value] of this.headers) cb(name, value);
  }
}

/** Parameters a route pattern declares (`/api/v1/market/:symbol/trades` has one). */
export function parameterCount(pattern: string): number {
  return pattern.split('/').filter((part) => part.startsWith(':')).length;
}
