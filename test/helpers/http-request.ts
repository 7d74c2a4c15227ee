import * as http from 'node:http';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * One HTTP request from a chosen loopback source address (`127.0.0.N`: each is its own client to
 * the server's per-address limits), on a fresh connection.
 */
export function request(url: string, options: { method?: string; body?: string; from?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', localAddress: options.from ?? '127.0.0.1', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.body !== undefined) req.setHeader('content-type', 'application/json');
    req.end(options.body);
  });
}
