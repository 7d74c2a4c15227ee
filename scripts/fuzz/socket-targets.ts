import WebSocket from 'ws';
import { decodeMessage } from '../../src/wire/message-decoder';
import { Findings, show } from './findings';
import { FuzzInputs, InvalidUtf8Text } from './fuzz-inputs';

/**
 * The two WebSocket dialects under fuzz: the feed (`/ws`, JSON or FlatBuffers data) and the
 * Market Data API stream. One connection sends generated control messages as fast as the
 * server answers; every `BARRIER_EVERY` inputs a well-formed ping goes out and the next inputs
 * wait for its answer, which bounds what is in flight (and so the fuzzer's own memory) and proves
 * the connection still answers. Every reply is checked: errors carry a catalog code, binary
 * frames decode. A connection the server closes is counted by close code (1006, no close frame,
 * is a finding) and replaced.
 */
const BARRIER_EVERY = 100;
/** How long a barrier may take before the connection counts as stuck (generous: a busy machine). */
const BARRIER_TIMEOUT_MS = 60_000;

export type Dialect = 'json' | 'flatbuffers' | 'market-data';

export interface SocketTarget {
  dialect: Dialect;
  url: string;
  inputs: FuzzInputs;
  findings: Findings;
}

const CHANNELS = ['l2', 'l3', 'trades', 'ticker', 'candles'];
const DATA_TYPES = ['TRADE', 'QUOTE', 'ORDERBOOK', 'OHLC'];
const DEPTHS = [10, 25, 50, 100, 500];
const INTERVALS = ['1m', '5m', '15m', '1h', '4h', '1d'];
const THROTTLES = [0, 100, 250, 500, 1000, 5000];

/** One generated control message of the dialect. */
function message(dialect: Dialect, f: FuzzInputs): unknown {
  const k = f.random.int(20);
  if (k === 0) return f.json(3);
  const value = <T>(list: readonly T[]): unknown => (f.chance(0.85) ? f.pick(list) : f.number());
  if (dialect === 'market-data') {
    const type = f.chance(0.9) ? f.pick(['SUBSCRIBE', 'UNSUBSCRIBE', 'HEARTBEAT']) : f.text();
    const m: Record<string, unknown> = { type, request_id: f.chance(0.8) ? `r${f.random.int(1000)}` : f.json(1) };
    if (type !== 'HEARTBEAT') {
      const filters: Record<string, unknown> = {};
      if (f.chance(0.5)) filters.depth = value(DEPTHS);
      if (f.chance(0.3)) filters.interval = value(INTERVALS);
      if (f.chance(0.3)) filters.throttle_ms = value(THROTTLES);
      m.payload = { symbols: f.some(SYMBOL_SLOTS).map(() => f.symbol()), data_types: f.chance(0.9) ? f.some(DATA_TYPES, 3) : f.json(1), filters };
    }
    return k < 4 ? f.mutate(m) : m;
  }
  const type = f.chance(0.9) ? f.pick(['subscribe', 'unsubscribe', 'ping']) : f.text();
  const m: Record<string, unknown> = { type };
  if (type === 'ping') m.id = f.json(1);
  else {
    m.channels = f.chance(0.9) ? f.some(CHANNELS, 3) : f.json(1);
    m.symbols = f.some(SYMBOL_SLOTS).map(() => f.symbol());
    if (f.chance(0.5)) m.depth = value(DEPTHS);
    if (f.chance(0.3)) m.interval = value(INTERVALS);
    if (f.chance(0.3)) m.throttle_ms = value(THROTTLES);
  }
  return k < 4 ? f.mutate(m) : m;
}

const SYMBOL_SLOTS = [0, 1, 2, 3];

function path(dialect: Dialect): string {
  return dialect === 'json' ? '/ws' : dialect === 'flatbuffers' ? '/ws?format=flatbuffers' : '/api/v1/market-data/stream';
}

/** Sends `count` inputs (or until `deadline`); resolves with how many were sent. */
export async function fuzzSocket(target: SocketTarget, count: number, deadline: number, onProgress: (sent: number) => void): Promise<number> {
  const { dialect, inputs: f, findings } = target;
  let sent = 0;
  let barrierId = 0;
  while (sent < count && Date.now() < deadline) {
    const ws = new WebSocket(target.url + path(dialect));
    let last = '';
    /** The last input that may end a connection (invalid UTF-8, past the hard size limit). */
    let risky = '';
    let waiting: { id: string; resolve: (answered: boolean) => void } | null = null;
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        try {
          decodeMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
          findings.answer('binary frame');
        } catch (err) {
          findings.find('undecodable binary frame', `${(err as Error).message}: ${show(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))}`);
        }
        return;
      }
      let m: Record<string, any>;
      try {
        m = JSON.parse(data.toString());
      } catch {
        findings.find('reply is not JSON', data.toString());
        return;
      }
      if (m.type === 'error') findings.code(m.data?.code, last);
      else if (m.type === 'ERROR') findings.code(m.payload?.code, last);
      if (waiting !== null && ((m.type === 'pong' && m.id === waiting.id) || (m.type === 'HEARTBEAT' && m.request_id === waiting.id))) {
        waiting.resolve(true);
        waiting = null;
      }
    });
    const opened = await new Promise<boolean>((resolve) => {
      ws.once('open', () => resolve(true));
      ws.once('close', () => resolve(false));
    });
    if (!opened) {
      findings.find('connection refused', `${dialect} ${path(dialect)}`);
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    let open = true;
    void closed.then((code) => {
      open = false;
      findings.answer(`close ${code}`);
      if (code === 1006) findings.find('closed without a close frame (1006)', `last risky input: ${risky}; last input: ${last}`);
      waiting?.resolve(false);
    });
    while (open && sent < count && Date.now() < deadline) {
      const input = f.frame(message(dialect, f));
      last = show(input);
      const binary = typeof input !== 'string' && !(input instanceof InvalidUtf8Text);
      if (input instanceof InvalidUtf8Text || input.length > 16 * 4096) risky = last;
      ws.send(input, { binary });
      sent++;
      if (sent % BARRIER_EVERY === 0) {
        onProgress(sent);
        const id = `barrier-${++barrierId}`;
        const answered = new Promise<boolean>((resolve) => (waiting = { id, resolve }));
        ws.send(JSON.stringify(dialect === 'market-data' ? { type: 'HEARTBEAT', request_id: id } : { type: 'ping', id }));
        const timer = setTimeout(() => waiting?.resolve(false), BARRIER_TIMEOUT_MS);
        const ok = await answered;
        clearTimeout(timer);
        if (!ok && open) {
          findings.find('no answer to a ping', `after ${last}`);
          ws.terminate();
        }
      }
    }
    if (open) {
      ws.close();
      await closed;
    }
  }
  return sent;
}
