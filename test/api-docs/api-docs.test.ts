import t from 'tap';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Parser, DiagnosticSeverity } from '@asyncapi/parser';
import WebSocket from 'ws';
import { documentedRoutes } from '../../src/api-docs/api-docs-routes';
import { ACCESS_CONTROL_ENDPOINTS, buildOpenApi, ENDPOINTS, OpenApiDocument } from '../../src/api-docs/openapi';
import { AsyncApiDocument } from '../../src/api-docs/asyncapi';
import type { ServedRoute } from '../../src/gateway/http';
import { startTestServer, TestServer, waitFor } from '../helpers/test-server';
import { schemaValidator } from '../helpers/schema-validator';

const key = (r: ServedRoute) => `${r.method.toUpperCase()} ${r.pattern}`;

async function fetchJson(srv: TestServer, path: string, init?: RequestInit) {
  const res = await fetch(srv.http + path, init);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as any };
}

/** The error codes the OpenAPI document lists for this answer (its description names them). */
function documentedCodes(doc: OpenApiDocument, path: string, method: string, status: number): string[] {
  const op = doc.paths[path]?.[method] as { responses: Record<string, { description: string }> } | undefined;
  const text = op?.responses[String(status)]?.description ?? '';
  return [...text.matchAll(/([A-Z_]+):/g)].map((m) => m[1]);
}

t.test('the API description: valid documents, every endpoint documented, live answers match', async (t) => {
  const srv = await startTestServer(['--rate', '3000', '--workers', '2', '--heartbeat-ms', '200']);
  t.teardown(() => srv.server.stop());
  const openApi = (await fetchJson(srv, '/openapi.json')).body as OpenApiDocument;
  const asyncApi = (await fetchJson(srv, '/asyncapi.json')).body as AsyncApiDocument;

  t.test('OpenAPI 3.1 passes swagger-parser', async (t) => {
    const api = await SwaggerParser.validate(structuredClone(openApi) as any);
    t.equal((api as any).openapi, '3.1.0');
  });

  t.test('AsyncAPI 3 passes @asyncapi/parser without an error or a warning', async (t) => {
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(asyncApi));
    t.ok(document, 'parsed');
    const serious = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning);
    t.same(serious.map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`), []);
    t.equal(document!.channels().all().length, 3, '/ws, the Market Data stream and /ingest');
  });

  t.test('what is served is documented, and what is documented is served', async (t) => {
    const served = new Set(srv.server.routes.map(key));
    const documented = new Set(documentedRoutes(openApi, asyncApi).map(key));
    t.ok(served.size >= 15, `the registry holds the served endpoints (${served.size})`);
    t.same([...served].filter((r) => !documented.has(r)), [], 'served but not documented');
    // Under --auth off (this server) the access-control endpoints are not served; the next test has them.
    const accessControl = new Set(documentedRoutes(buildOpenApi(ACCESS_CONTROL_ENDPOINTS), { channels: {} } as AsyncApiDocument).map(key));
    t.same([...documented].filter((r) => !served.has(r) && !accessControl.has(r)), [], 'documented but not served');
    // The comparison notices a missing entry: drop one endpoint from the document and it is reported.
    const short = documentedRoutes(buildOpenApi(ENDPOINTS.slice(1)), asyncApi).map(key);
    t.same([...served].filter((r) => !short.includes(r)), [key({ method: 'get', pattern: '/api/v1/market/symbols' })]);
  });

  t.test('live REST answers match their documented schemas', async (t) => {
    const valid = schemaValidator(openApi, 'openapi');
    await waitFor('trades and a closed 1 s of flow', async () => (await fetchJson(srv, '/api/v1/market/BTC-USD/trades?limit=5')).body.count > 0);
    const checks: [string, string, RequestInit?][] = [
      ['/api/v1/market/symbols', 'MarketSymbols'],
      ['/api/v1/market/BTC-USD/ticker', 'Ticker'],
      ['/api/v1/market/BTC-USD/orderbook?depth=5', 'OrderBook'],
      ['/api/v1/market/BTC-USD/trades?limit=5', 'Trades'],
      ['/api/v1/market/BTC-USD/candles?interval=1m', 'Candles'],
      ['/api/v1/health', 'Health'],
      ['/api/v1/market-data/symbols', 'MarketDataSymbols'],
      ['/api/v1/market-data/BTC-USD/latest?fields=price,bid,ask,quality_score', 'Latest'],
      ['/api/v1/market-data/BTC-USD/history?interval=1m', 'History'],
      ['/api/v1/market-data/bulk', 'Bulk', { method: 'POST', body: JSON.stringify({ symbols: ['BTC/USD', 'NOPE'] }) }],
    ];
    for (const [path, schema, init] of checks) {
      const answer = await fetchJson(srv, path, init);
      t.equal(answer.status, 200, path);
      t.match(answer.type, /application\/json/, `${path}: JSON`);
      t.same(valid(schema, answer.body), [], `${path} is a ${schema}`);
    }
    // The documents validate themselves as served.
    t.equal((await fetchJson(srv, '/openapi.json')).status, 200);
  });

  t.test('live error answers are ErrorBody with a code the endpoint documents', async (t) => {
    const valid = schemaValidator(openApi, 'openapi');
    const refusals: [string, string, string, number, string, RequestInit?][] = [
      ['/api/v1/market/NOPE/orderbook', '/api/v1/market/{symbol}/orderbook', 'get', 404, 'UNKNOWN_SYMBOL'],
      ['/api/v1/market/BTC-USD/orderbook?depth=0', '/api/v1/market/{symbol}/orderbook', 'get', 400, 'INVALID_PARAMETER'],
      ['/api/v1/market/BTC-USD/candles?interval=2m', '/api/v1/market/{symbol}/candles', 'get', 400, 'INVALID_INTERVAL'],
      ['/api/v1/market/BTC-USD/events', '/api/v1/market/{symbol}/events', 'get', 404, 'EVENTS_DISABLED'],
      ['/api/v1/market-data/NOPE/latest', '/api/v1/market-data/{symbol}/latest', 'get', 404, 'UNKNOWN_SYMBOL'],
      ['/api/v1/market-data/bulk', '/api/v1/market-data/bulk', 'post', 400, 'INVALID_JSON', { method: 'POST', body: '{' }],
      ['/dashboard/nope.js', '/dashboard/{file}', 'get', 404, 'NOT_FOUND'],
    ];
    for (const [url, path, method, status, code, init] of refusals) {
      const answer = await fetchJson(srv, url, init);
      t.equal(answer.status, status, url);
      t.same(valid('ErrorBody', answer.body), [], `${url}: ErrorBody`);
      t.equal(answer.body.error.code, code, url);
      t.ok(documentedCodes(openApi, path, method, status).includes(code), `${method} ${path} documents ${status} ${code}`);
    }
  });

  t.test('live WebSocket messages of both dialects match the AsyncAPI schemas', async (t) => {
    const valid = schemaValidator(asyncApi, 'asyncapi');
    const feedSchemas: Record<string, string> = {
      l2_snapshot: 'L2Snapshot', l2_update: 'L2Update', l3_snapshot: 'L3Snapshot', l3_update: 'L3Update', trade: 'TradeMessage',
      ticker: 'TickerMessage', candle: 'CandleMessage', heartbeat: 'Heartbeat', subscribed: 'Subscribed', error: 'WsError', pong: 'Pong',
    };
    const seen = new Map<string, number>();
    const problems: string[] = [];
    const feed = new WebSocket(`${srv.url}/ws`);
    t.teardown(() => feed.close());
    feed.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString());
      const schema = feedSchemas[m.type];
      if (schema === undefined) problems.push(`undocumented type ${m.type}`);
      else problems.push(...valid(schema, m));
      seen.set(m.type, (seen.get(m.type) ?? 0) + 1);
    });
    await new Promise((resolve) => feed.once('open', resolve));
    feed.send(JSON.stringify({ type: 'subscribe', channels: ['l2', 'l3', 'trades', 'ticker', 'candles'], symbols: ['BTC/USD', 'ETH/USD'], depth: 10 }));
    feed.send(JSON.stringify({ type: 'ping', id: 7 }));
    feed.send(JSON.stringify({ type: 'subscribe', channels: ['l2'], symbols: ['NOPE'] }));
    await waitFor('every feed message type', () => Object.keys(feedSchemas).every((type) => (seen.get(type) ?? 0) >= (type.endsWith('update') ? 20 : 1)));
    t.same(problems.slice(0, 10), [], 'every /ws message matches its schema');

    const mdSchemas: Record<string, string> = { SUBSCRIBE: 'MarketDataReply', DATA: 'MarketDataData', HEARTBEAT: 'MarketDataHeartbeat', ERROR: 'MarketDataError' };
    const mdSeen = new Set<string>();
    const md = new WebSocket(`${srv.url}/api/v1/market-data/stream`);
    t.teardown(() => md.close());
    md.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString());
      const schema = mdSchemas[m.type];
      if (schema === undefined) problems.push(`undocumented type ${m.type}`);
      else problems.push(...valid(schema, m));
      mdSeen.add(m.type === 'DATA' ? `DATA ${m.payload.type}` : m.type);
    });
    await new Promise((resolve) => md.once('open', resolve));
    t.same(valid('MarketDataRequest', { type: 'SUBSCRIBE', request_id: 'r1', payload: { symbols: ['BTC/USD'], data_types: ['TRADE', 'QUOTE', 'ORDERBOOK', 'OHLC'] } }), []);
    md.send(JSON.stringify({ type: 'SUBSCRIBE', request_id: 'r1', payload: { symbols: ['BTC/USD'], data_types: ['TRADE', 'QUOTE', 'ORDERBOOK', 'OHLC'] } }));
    md.send(JSON.stringify({ type: 'SUBSCRIBE', request_id: 'r2', payload: { symbols: ['NOPE'], data_types: ['TRADE'] } }));
    await waitFor('every Market Data message type', () =>
      ['SUBSCRIBE', 'HEARTBEAT', 'ERROR', 'DATA l2_snapshot', 'DATA l2_update', 'DATA trade', 'DATA ticker', 'DATA candle'].every((k) => mdSeen.has(k)),
    );
    t.same(problems.slice(0, 10), [], 'every Market Data stream message matches its schema');
  });
});

t.test('live /ingest messages match the AsyncAPI schemas', async (t) => {
  const token = 'api-docs-publisher-token';
  const srv = await startTestServer(['--source', 'ingest', '--publisher-token', token, '--workers', '1']);
  t.teardown(() => srv.server.stop());
  const asyncApi = (await fetchJson(srv, '/asyncapi.json')).body as AsyncApiDocument;
  const valid = schemaValidator(asyncApi, 'asyncapi');
  const schemas: Record<string, string> = { welcome: 'IngestWelcome', ack: 'IngestAck', error: 'IngestError' };
  const seen = new Set<string>();
  const problems: string[] = [];
  const ws = new WebSocket(`${srv.url}/ingest?session=docs&token=${token}`);
  t.teardown(() => ws.close());
  ws.on('message', (data: Buffer) => {
    const m = JSON.parse(data.toString());
    problems.push(...(schemas[m.type] === undefined ? [`undocumented type ${m.type}`] : valid(schemas[m.type], m)));
    seen.add(m.type);
  });
  await waitFor('the welcome', () => seen.has('welcome'));
  const batch = { first_sequence: 1, events: [{ kind: 'add', symbol: 'BTC/USD', side: 'buy', order_id: 1, price: '67000.5', size: '0.25' }, { kind: 'delete', symbol: 'BTC/USD', order_id: 1 }] };
  t.same(valid('IngestBatchJson', batch), [], 'the README\'s batch matches the documented request');
  ws.send(JSON.stringify(batch));
  ws.send(JSON.stringify({ first_sequence: 9, events: batch.events }));
  await waitFor('an ack and an error', () => seen.has('ack') && seen.has('error'));
  t.same(problems, [], 'welcome, ack and error match their schemas');
});

t.test('with access control on, its endpoints are served and documented', async (t) => {
  const srv = await startTestServer(['--auth', 'optional', '--rate', '100', '--workers', '1']);
  t.teardown(() => srv.server.stop());
  const openApi = (await fetchJson(srv, '/openapi.json')).body as OpenApiDocument;
  const asyncApi = (await fetchJson(srv, '/asyncapi.json')).body as AsyncApiDocument;
  const served = new Set(srv.server.routes.map(key));
  const documented = new Set(documentedRoutes(openApi, asyncApi).map(key));
  t.same([...served].filter((r) => !documented.has(r)), [], 'served but not documented');
  t.same([...documented].filter((r) => !served.has(r)), [], 'documented but not served');
});
