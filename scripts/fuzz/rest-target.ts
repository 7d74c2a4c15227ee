import * as http from 'node:http';
import { ERRORS } from '../../src/errors';
import { Findings } from './findings';
import { FuzzInputs } from './fuzz-inputs';

/**
 * REST under fuzz: both dialects' endpoints with generated paths, parameters and bodies, over
 * keep-alive connections, `CONCURRENCY` requests in flight. Every answer is checked: a JSON body;
 * for an error status, `{"error":{"code"}}` with a catalog code whose status is the one answered;
 * no 5xx but STORE_UNAVAILABLE; a bulk answer accounts for every symbol asked.
 */
const CONCURRENCY = 8;

interface Request {
  method: string;
  path: string;
  body?: string;
}

const FIELDS = ['price', 'volume', 'bid', 'ask', 'spread', 'mid_price', 'vwap', 'trade_count', 'bid_size', 'ask_size', 'last_size', 'high_24h', 'low_24h', 'open_24h', 'change_24h', 'quality_score'];
const TIMES = ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000001Z', '0', '1', '-1', '1700000000000', '99999999999999999', 'now', '2026-13-45T99:99:99Z'];

/** Percent-encodes the UTF-8 bytes of any string (lone surrogates become U+FFFD, as on the wire). */
function encode(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) out += UNRESERVED.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}
const UNRESERVED = /^[A-Za-z0-9_.~-]$/;

function request(f: FuzzInputs): Request {
  const sym = () => encode(f.symbol()).replace(/%252F/g, '%2F');
  const q = (pairs: [string, string][]) => {
    if (f.chance(0.1)) pairs.push([f.chance(0.5) ? f.text() : pairs[0]?.[0] ?? 'x', f.text()]); // unknown or repeated parameter
    return pairs.length === 0 ? '' : '?' + pairs.map(([k, v]) => `${encode(k)}=${encode(v)}`).join('&');
  };
  const maybe = (p: number, k: string, v: () => string): [string, string][] => (f.chance(p) ? [[k, v()]] : []);
  const k = f.random.int(100);
  if (k < 14) return { method: 'GET', path: `/api/v1/market/${sym()}/orderbook${q([...maybe(0.8, 'depth', () => f.param(['1', '10', '20', '100', '500'])), ...maybe(0.005, 'at', () => f.pick(TIMES))])}` };
  if (k < 24) return { method: 'GET', path: `/api/v1/market/${sym()}/ticker${q([])}` };
  if (k < 34) return { method: 'GET', path: `/api/v1/market/${sym()}/trades${q([...maybe(0.7, 'limit', () => f.param(['1', '100', '1000'])), ...maybe(0.05, 'start', () => f.pick(TIMES)), ...maybe(0.05, 'end', () => f.pick(TIMES))])}` };
  if (k < 44) {
    return {
      method: 'GET',
      path: `/api/v1/market/${sym()}/candles${q([...maybe(0.8, 'interval', () => f.param(['1m', '5m', '1h', '1d'])), ...maybe(0.05, 'start', () => f.pick(TIMES)), ...maybe(0.05, 'end', () => f.pick(TIMES)), ...maybe(0.5, 'limit', () => f.param(['1', '10', '1000']))])}`,
    };
  }
  if (k < 47) return { method: 'GET', path: `/api/v1/market/${sym()}/events${q([...maybe(0.5, 'limit', () => f.param(['1', '1000']))])}` };
  if (k < 62) {
    const fields = f.chance(0.7) ? f.some(FIELDS, 6).join(',') : f.text();
    return { method: 'GET', path: `/api/v1/market-data/${sym()}/latest${q([...maybe(0.7, 'fields', () => fields), ...maybe(0.2, 'currency', () => f.param(['USD', 'BTC', 'ETH', 'EUR']))])}` };
  }
  if (k < 80) {
    const body: Record<string, unknown> = { symbols: f.chance(0.9) ? [0, 1, 2, 3, 4].slice(0, f.random.int(6)).map(() => (f.chance(0.9) ? f.symbol() : f.json(1))) : f.json(2) };
    if (f.chance(0.5)) body.fields = f.chance(0.8) ? f.some(FIELDS, 5) : f.json(1);
    if (f.chance(0.2)) body.currency = f.param(['USD', 'BTC', 'EUR']);
    if (f.chance(0.03)) body.as_of = f.chance(0.5) ? f.pick(TIMES) : f.number();
    const text = JSON.stringify(f.chance(0.2) ? f.mutate(body) : body);
    return { method: 'POST', path: '/api/v1/market-data/bulk', body: f.chance(0.9) ? text : text.slice(0, f.random.int(text.length)) };
  }
  if (k < 84) return { method: 'GET', path: `/api/v1/market-data/${sym()}/history${q([...maybe(0.7, 'interval', () => f.param(['1m', '1h'])), ...maybe(0.5, 'format', () => f.param(['json', 'csv'])), ...maybe(0.3, 'fields', () => f.text())])}` };
  if (k < 88) return { method: 'GET', path: f.pick(['/api/v1/market/symbols', '/api/v1/market-data/symbols', '/api/v1/health']) + q([]) };
  if (k < 94) return { method: f.pick(['PUT', 'DELETE', 'PATCH', 'POST', 'OPTIONS']), path: f.pick(['/api/v1/market/symbols', `/api/v1/market/${sym()}/ticker`, '/api/v1/market-data/bulk', '/api/v1/health']) };
  return { method: 'GET', path: '/' + encode(f.text()) };
}

function send(agent: http.Agent, port: number, r: Request): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent, host: '127.0.0.1', port, method: r.method, path: r.path, headers: r.body === undefined ? {} : { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type'] ?? '') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(r.body);
  });
}

function check(findings: Findings, r: Request, status: number, body: string, type: string): void {
  const input = `${r.method} ${r.path}${r.body === undefined ? '' : ` ${r.body}`}`;
  if (status < 400) {
    findings.answer(String(status));
    if (type.includes('csv')) return;
    let parsed: any;
    try {
      parsed = JSON.parse(body);
    } catch {
      findings.find('2xx body is not JSON', input);
      return;
    }
    if (r.path === '/api/v1/market-data/bulk' && r.body !== undefined) checkBulk(findings, r.body, parsed, input);
    return;
  }
  let code: unknown;
  try {
    code = JSON.parse(body).error?.code;
  } catch {
    findings.find('error body is not JSON', `${status} ${body.slice(0, 100)} <- ${input}`);
    return;
  }
  findings.code(code, input);
  const known = typeof code === 'string' && Object.hasOwn(ERRORS, code) ? ERRORS[code as keyof typeof ERRORS] : null;
  if (known !== null && known.status !== status) findings.find('status differs from the catalog', `${status} ${String(code)} <- ${input}`);
  if (status >= 500 && code !== 'STORE_UNAVAILABLE') findings.find('5xx answer', `${status} ${String(code)} <- ${input}`);
}

/** A bulk answer names every symbol asked, in `data` or in `errors` (an own key: `__proto__` too). */
function checkBulk(findings: Findings, requestBody: string, answer: any, input: string): void {
  let asked: unknown;
  try {
    asked = JSON.parse(requestBody).symbols;
  } catch {
    return;
  }
  if (!Array.isArray(asked) || !asked.every((s) => typeof s === 'string')) return;
  const errors = answer.errors ?? {};
  for (const code of Object.values(errors) as { code?: unknown }[]) findings.code(code?.code, input);
  for (const name of asked as string[]) {
    if (name === '__proto__' && !Object.hasOwn(errors, name) && !Object.hasOwn(answer.data ?? {}, name)) findings.find('bulk answer loses a symbol', input);
  }
}

/** Sends `count` requests (or until `deadline`); resolves with how many were sent. */
export async function fuzzRest(port: number, f: FuzzInputs, findings: Findings, count: number, deadline: number, onProgress: (sent: number) => void): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let sent = 0;
  const lane = async () => {
    while (sent < count && Date.now() < deadline) {
      const r = request(f);
      sent++;
      if (sent % 1000 === 0) onProgress(sent);
      try {
        const { status, body, type } = await send(agent, port, r);
        if (r.method !== 'HEAD') check(findings, r, status, body, type);
      } catch (err) {
        findings.find('request failed', `${(err as Error).message} <- ${r.method} ${r.path}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  agent.destroy();
  return sent;
}
