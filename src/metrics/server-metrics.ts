import { collectDefaultMetrics, Counter, Gauge, type Metric, Registry } from 'prom-client';
import type { Instrument } from '../model/instruments';
import { REJECT_NAMES } from '../model/book-types';
import { CHANNELS } from '../model/streams';
import { MSG_CANDLE, MSG_L2_SNAPSHOT, MSG_L2_UPDATE, MSG_L3_SNAPSHOT, MSG_L3_UPDATE, MSG_TICKER, MSG_TRADE } from '../model/out-records';
import { SRC_DURABLE, SRC_EMITTED } from '../model/source-words';
import { M_SEQUENCE, M_TIMESTAMP } from '../engine/book-mirror';
import type { BookMirrorReader } from '../engine/book-mirror';
import { S_ACCEPTED, S_OUT_WAITS, S_PERSIST_WAITS, S_REJECTED } from '../engine/worker-protocol';
import type { SessionHub } from '../distribution/session-hub';
import { FORMAT_BINARY, FORMAT_FEED_JSON, FORMAT_FIX, FORMAT_MARKET_DATA, FORMATS } from '../distribution/streams';
import type { RequestObserver } from '../gateway/http';
import type { WsGateway } from '../gateway/ws-gateway';
import type { DeliveryLatency } from './delivery-latency';
import type { QueueDepths, RingUse } from './queue-depths';
import { storageSpace } from './storage-space';
import { RequestDurations } from './request-durations';
import type { SharedLatencyWindow } from '../ring/shared-latency';
import { ERRORS, ErrorCode } from '../errors';

/** Label values of message types (MSG_*) and formats (FORMAT_*), as /metrics names them. */
const MESSAGE_TYPES: Record<number, string> = {
  [MSG_L2_SNAPSHOT]: 'l2_snapshot',
  [MSG_L2_UPDATE]: 'l2_update',
  [MSG_L3_SNAPSHOT]: 'l3_snapshot',
  [MSG_L3_UPDATE]: 'l3_update',
  [MSG_TRADE]: 'trade',
  [MSG_TICKER]: 'ticker',
  [MSG_CANDLE]: 'candle',
};
const FORMAT_NAMES: Record<number, string> = { [FORMAT_BINARY]: 'flatbuffers', [FORMAT_FEED_JSON]: 'feed_json', [FORMAT_MARKET_DATA]: 'market_data', [FORMAT_FIX]: 'fix' };
/** What each format's sessions travel on: FIX sessions are plain TCP (or TLS) connections of the acceptor. */
const TRANSPORTS: Record<number, string> = { [FORMAT_BINARY]: 'websocket', [FORMAT_FEED_JSON]: 'websocket', [FORMAT_MARKET_DATA]: 'websocket', [FORMAT_FIX]: 'tcp' };
const QUANTILES = [
  ['0.5', 'p50'],
  ['0.95', 'p95'],
  ['0.99', 'p99'],
] as const;

/** Per-symbol data-quality counts of an external feed (the feeds' shared words), when the source has them. */
export interface InputQuality {
  sequenceGaps(instrument: number): number;
  checksumFailures(instrument: number): number;
}

/** What /metrics reads; every part keeps its own counters (most in shared memory), read here at scrape time. */
export interface MetricParts {
  instruments: readonly Instrument[];
  /** Each book worker's counters (S_*, engine/worker-protocol.ts). */
  workerStats: readonly Float64Array[];
  sourceStats: Float64Array;
  /** Persistence's health(): rows stored, failures, spool, durable lag. */
  persistenceHealth: () => object;
  hub: SessionHub;
  ws: WsGateway;
  /** The FIX acceptor's refusals by `route code` (FixAcceptor.refusals), when it runs. */
  fixRefusals: ReadonlyMap<string, number> | null;
  queues: QueueDepths;
  mirror: BookMirrorReader;
  dataDir: string;
  /** Null when event times are not wall-clock times (a replay at original time). */
  latency: DeliveryLatency | null;
  /** The book workers' event-to-apply latencies; null as `latency`. */
  applyLatency: SharedLatencyWindow | null;
  inputQuality: InputQuality | null;
}

interface StoreHealth {
  trades: number;
  candles: number;
  snapshots: number;
  failed_writes: number;
  durable_lag_ms: { p50: number | null; p99: number | null; max: number | null };
}

/**
 * The Prometheus registry behind `GET /metrics` (prom-client, a registry of this server's own, so
 * two servers in one process never mix). Nothing here runs per message: every family but the
 * REST histogram has a `collect` that reads the parts' counters when scraped — worker counters
 * and source words in shared memory, the hub's per-type-and-format array, the rings' cursors,
 * the mirror's per-symbol header, statfs of the data directory. REST requests are observed as
 * they are answered (gateway/http.ts), the cold path.
 */
/** How often the event loop's delay is sampled (see the constructor). */
const EVENT_LOOP_SAMPLE_MS = 100;

export class ServerMetrics implements RequestObserver {
  readonly registry = new Registry();
  private readonly requests: RequestDurations;
  /** REST refusals by `route code` (WebSocket ones are the gateway's own count), read with them when scraped. */
  private readonly restRefusals = new Map<string, number>();

  constructor(parts: MetricParts) {
    const r = [this.registry];
    const { hub, ws } = parts;
    // The event-loop delay is sampled by a timer (monitorEventLoopDelay): prom-client's 10 ms made
    // it an idle server's main source of wake-ups, 100 a second. Every 100 ms, a stall of 100 ms
    // or more is still always seen (it holds the next sample back), shorter ones in proportion;
    // the deliveries' own latency (bookcast_event_to_send_latency_seconds) sees every one.
    collectDefaultMetrics({ register: this.registry, prefix: 'bookcast_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

    const latency = parts.latency;
    if (latency !== null) {
      new Gauge({
        name: 'bookcast_event_to_send_latency_seconds',
        help: 'Event timestamp to hand-off to live sessions, quantiles over the metrics window, by channel',
        labelNames: ['channel', 'quantile'],
        registers: r,
        collect() {
          this.reset();
          CHANNELS.forEach((channel, c) => {
            const q = latency.window.quantiles(c);
            for (const [label, key] of QUANTILES) if (q[key] !== null) this.set({ channel, quantile: label }, q[key]! / 1e6);
          });
        },
      });
      new Gauge({
        name: 'bookcast_event_to_send_latency_samples',
        help: 'Messages the latency quantiles cover (the metrics window), by channel',
        labelNames: ['channel'],
        registers: r,
        collect() {
          this.reset();
          CHANNELS.forEach((channel, c) => this.set({ channel }, latency.window.quantiles(c).samples));
        },
      });
    }
    const applyLatency = parts.applyLatency;
    if (applyLatency !== null) {
      new Gauge({
        name: 'bookcast_event_to_apply_latency_seconds',
        help: 'Event timestamp to the book worker starting to apply it, quantiles over the metrics window (all workers)',
        labelNames: ['quantile'],
        registers: r,
        collect() {
          this.reset();
          const q = applyLatency.quantiles();
          for (const [label, key] of QUANTILES) if (q[key] !== null) this.set({ quantile: label }, q[key]! / 1e6);
        },
      });
      new Gauge({
        name: 'bookcast_event_to_apply_latency_samples',
        help: 'Events the event-to-apply quantiles cover (the metrics window)',
        registers: r,
        collect() {
          this.set(applyLatency.quantiles().samples);
        },
      });
    }
    new Counter({
      name: 'bookcast_messages_published_total',
      help: 'Messages handed to live WebSocket subscribers, by message type and format (once per format, not per subscriber)',
      labelNames: ['type', 'format'],
      registers: r,
      collect() {
        this.reset();
        for (const [kind, type] of Object.entries(MESSAGE_TYPES)) {
          for (let f = 0; f < FORMATS; f++) this.inc({ type, format: FORMAT_NAMES[f] }, hub.publishedBy[Number(kind) * FORMATS + f]);
        }
      },
    });
    new Gauge({
      name: 'bookcast_connections',
      help: 'Open client connections by dialect and transport',
      labelNames: ['dialect', 'transport'],
      registers: r,
      collect() {
        this.reset();
        const counts = new Array<number>(FORMATS).fill(0);
        for (const s of hub.sessions) counts[s.format]++;
        for (let f = 0; f < FORMATS; f++) this.set({ dialect: FORMAT_NAMES[f], transport: TRANSPORTS[f] }, counts[f]);
      },
    });
    counter(r, 'bookcast_websocket_upgrade_requests_total', 'WebSocket upgrade requests on the data endpoints', () => ws.upgradeRequests);
    counter(r, 'bookcast_websocket_upgrades_refused_total', 'WebSocket upgrade requests refused (origin, connection limits, bad format, …)', () => ws.upgradeRequests - ws.upgrades);
    new Counter({
      name: 'bookcast_websocket_closes_total',
      help: 'WebSocket connections closed, by close code (1006: dropped or timed out; 1013: slow consumer; 1008: flood)',
      labelNames: ['code'],
      registers: r,
      collect() {
        this.reset();
        for (const [code, n] of ws.closes) this.inc({ code: String(code) }, n);
      },
    });
    counter(r, 'bookcast_websocket_timeouts_total', 'WebSocket connections that ended without a close frame (1006: idle timeout or dropped)', () => ws.closes.get(1006) ?? 0);
    counter(r, 'bookcast_failed_deliveries_total', 'Direct sends (snapshots, replies, heartbeats) to a connection that was gone or whose message uWS dropped', () => ws.deliveryFailures.count);
    counter(r, 'bookcast_slow_consumer_resyncs_total', 'Connections parked past --soft-backpressure (resynchronised from snapshots when drained)', () => hub.slowConsumerResyncs);
    counter(r, 'bookcast_slow_consumer_closes_total', 'Connections closed as too slow (1013)', () => hub.slowConsumerCloses);

    new Gauge({
      name: 'bookcast_queue_depth',
      help: 'Depth of the queues that grow with a backlog: the deepest connection send buffer in bytes, the others in their items (label unit)',
      labelNames: ['queue', 'unit'],
      registers: r,
      collect() {
        this.reset();
        for (const q of parts.queues.read()) this.set({ queue: q.queue, unit: q.unit }, q.depth);
      },
    });
    const rings = (name: string, help: string, read: (u: RingUse) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['ring', 'worker'],
        registers: r,
        collect() {
          this.reset();
          for (const u of parts.queues.ringUse()) this.set(u.worker === '' ? { ring: u.ring } : { ring: u.ring, worker: u.worker }, read(u));
        },
      });
    rings('bookcast_ring_used_bytes', 'Bytes waiting in each shared-memory ring (event, out, control, persist per book worker; ingest)', (u) => u.usedBytes);
    rings('bookcast_ring_capacity_bytes', 'Capacity of each shared-memory ring', (u) => u.capacityBytes);
    const store = () => parts.persistenceHealth() as StoreHealth;
    new Gauge({
      name: 'bookcast_store_durable_lag_seconds',
      help: 'Trade event to its row committed in the store, quantiles over the last minute',
      labelNames: ['quantile'],
      registers: r,
      collect() {
        this.reset();
        const lag = store().durable_lag_ms;
        for (const [label, key] of [['0.5', 'p50'], ['0.99', 'p99'], ['1', 'max']] as const) if (lag[key] !== null) this.set({ quantile: label }, lag[key]! / 1000);
      },
    });
    new Counter({
      name: 'bookcast_store_rows_total',
      help: 'Rows committed to the store, by table',
      labelNames: ['table'],
      registers: r,
      collect() {
        this.reset();
        const s = store();
        this.inc({ table: 'trades' }, s.trades);
        this.inc({ table: 'candles' }, s.candles);
        this.inc({ table: 'book_snapshots' }, s.snapshots);
      },
    });
    counter(r, 'bookcast_store_failed_writes_total', 'Store batches that failed (kept in the spool and retried)', () => store().failed_writes);
    gauge(r, 'bookcast_journal_durable_sequence', 'Highest input journal sequence on stable storage', () => parts.sourceStats[SRC_DURABLE]);
    new Counter({
      name: 'bookcast_events_total',
      help: 'Events the book workers applied (result="accepted") or rejected (result = the reason)',
      labelNames: ['worker', 'result'],
      registers: r,
      collect() {
        this.reset();
        parts.workerStats.forEach((s, w) => {
          const worker = String(w);
          this.inc({ worker, result: 'accepted' }, s[S_ACCEPTED]);
          REJECT_NAMES.forEach((name, code) => {
            if (code > 0 && s[S_REJECTED + code] > 0) this.inc({ worker, result: name }, s[S_REJECTED + code]);
          });
        });
      },
    });
    // Registered, so collected, after the workers' counts: the source counts an event before any book
    // can see it, so reading it last keeps accepted <= emitted in every scrape of a running feed.
    counter(r, 'bookcast_source_events_total', 'Events the source emitted to the books', () => parts.sourceStats[SRC_EMITTED]);
    new Counter({
      name: 'bookcast_ring_full_waits_total',
      help: 'Times a book worker waited for ring space (ring="out": the front fell behind; "persist": the store did)',
      labelNames: ['worker', 'ring'],
      registers: r,
      collect() {
        this.reset();
        parts.workerStats.forEach((s, w) => {
          this.inc({ worker: String(w), ring: 'out' }, s[S_OUT_WAITS]);
          this.inc({ worker: String(w), ring: 'persist' }, s[S_PERSIST_WAITS]);
        });
      },
    });
    const space = () => storageSpace(parts.dataDir);
    gauge(r, 'bookcast_storage_size_bytes', "Size of the data directory's filesystem", () => space()?.totalBytes);
    gauge(r, 'bookcast_storage_free_bytes', "Free bytes of the data directory's filesystem (available to the server)", () => space()?.freeBytes);
    gauge(r, 'bookcast_storage_used_bytes', "Used bytes of the data directory's filesystem", () => space()?.usedBytes);

    const symbols = parts.instruments.map((i) => i.symbol);
    new Gauge({
      name: 'bookcast_symbol_staleness_seconds',
      help: "Seconds since the symbol's last event (by its event time), by symbol; absent before its first event",
      labelNames: ['symbol'],
      registers: r,
      collect() {
        this.reset();
        const now = Date.now() * 1000;
        symbols.forEach((symbol, i) => {
          const header = parts.mirror.read(i, 0);
          if (header[M_SEQUENCE] > 0 && header[M_TIMESTAMP] > 0) this.set({ symbol }, Math.max(0, now - header[M_TIMESTAMP]) / 1e6);
        });
      },
    });
    new Gauge({
      name: 'bookcast_symbol_sequence',
      help: "The symbol's last applied sequence, by symbol",
      labelNames: ['symbol'],
      registers: r,
      collect() {
        this.reset();
        symbols.forEach((symbol, i) => this.set({ symbol }, parts.mirror.read(i, 0)[M_SEQUENCE]));
      },
    });
    const quality = parts.inputQuality;
    if (quality !== null) {
      perSymbol(r, 'bookcast_input_sequence_gaps_total', 'Sequence gaps seen on the input feed, by symbol', symbols, (i) => quality.sequenceGaps(i));
      perSymbol(r, 'bookcast_input_checksum_failures_total', "Input feed checksum mismatches (the venue's book against the local copy), by symbol", symbols, (i) => quality.checksumFailures(i));
    }

    // Refusals by their status: 401/403 (a credential refused, a permission missing) and 429 (a
    // request budget, a message rate, a heavy-request cap), and the subscription cap (a 400). Labels are the route
    // pattern and the catalog's code, both bounded; never the key id or the address.
    const restRefusals = this.restRefusals;
    const refusals = (name: string, help: string, kind: RefusalKind) =>
      new Counter({
        name,
        help,
        labelNames: ['route', 'code'],
        registers: r,
        collect() {
          this.reset();
          for (const counts of [restRefusals, ws.refusals, parts.fixRefusals ?? NO_REFUSALS]) {
            for (const [key, n] of counts) {
              const at = key.lastIndexOf(' ');
              const code = key.slice(at + 1);
              if (refusalKind(code) === kind) this.inc({ route: key.slice(0, at), code }, n);
            }
          }
        },
      });
    refusals('bookcast_auth_failures_total', 'Requests, WebSocket upgrades or messages and FIX Logons or requests refused for their credentials or permissions (401, 403), by route and code', 'auth');
    refusals('bookcast_rate_limit_hits_total', 'Requests, WebSocket upgrades or messages and FIX messages or requests refused by a limit (429), by route and code', 'limit');

    this.requests = new RequestDurations(
      'bookcast_http_request_duration_seconds',
      'REST requests by route pattern and status, and how long they took to answer',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    );
    // The registry needs only name, get() and reset(); its type names prom-client's own classes.
    this.registry.registerMetric(this.requests as unknown as Metric);
  }

  /** RequestObserver (gateway/http.ts): one REST answer. */
  answered(pattern: string, status: number, seconds: number, code: string | null): void {
    this.requests.observe(pattern, status, seconds);
    if (code !== null && refusalKind(code) !== null) {
      const key = `${pattern} ${code}`;
      this.restRefusals.set(key, (this.restRefusals.get(key) ?? 0) + 1);
    }
  }

  /** The exposition text of every family, read now. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

type RefusalKind = 'auth' | 'limit';

const NO_REFUSALS: ReadonlyMap<string, number> = new Map();

/** An auth failure (401, 403), a limit hit (429), or neither (null), by the catalog's status of `code`. */
function refusalKind(code: string): RefusalKind | null {
  const status = Object.hasOwn(ERRORS, code) ? ERRORS[code as ErrorCode].status : 0;
  return status === 401 || status === 403 ? 'auth' : status === 429 || code === 'TOO_MANY_SUBSCRIPTIONS' ? 'limit' : null;
}

function counter(registers: Registry[], name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A gauge read at scrape time; `read` answering undefined leaves it without a sample. */
function gauge(registers: Registry[], name: string, help: string, read: () => number | undefined): void {
  new Gauge({
    name,
    help,
    registers,
    collect() {
      this.reset();
      const value = read();
      if (value !== undefined) this.set(value);
    },
  });
}

function perSymbol(registers: Registry[], name: string, help: string, symbols: readonly string[], read: (instrument: number) => number): void {
  new Counter({
    name,
    help,
    labelNames: ['symbol'],
    registers,
    collect() {
      this.reset();
      symbols.forEach((symbol, i) => this.inc({ symbol }, read(i)));
    },
  });
}
