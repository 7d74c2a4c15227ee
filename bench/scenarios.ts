/**
 * Every benchmark scenario the runner knows, in running order. A scenario is a module exporting
 * `run(opts: { seconds: number; full: boolean }): Promise<object>`; `seconds` is its budget, and
 * each scenario says below what it does with it. `headline` picks the figures for the summary
 * table from its result (a scenario whose result changes shape just loses its summary line).
 */

export type Figure = [label: string, value: string];

export interface ScenarioEntry {
  name: string;
  /** Module path relative to this file. */
  module: string;
  /** Budget in the quick suite (`npm run bench`); null: only in the full suite. */
  quickSeconds: number | null;
  fullSeconds: number;
  /** What the budget means, for the report. */
  budget: string;
  /** Wall-clock limit for a budget, when the runner's default (120 s + 30 s per budget second) is too short. */
  timeoutSeconds?(seconds: number, full: boolean): number;
  headline(result: any): Figure[];
}

const n = (value: unknown): string => (typeof value === 'number' ? Math.round(value).toLocaleString('en-US') : '—');
const millions = (value: unknown): string => (typeof value === 'number' ? `${(value / 1e6).toFixed(2)} M` : '—');
const micros = (value: unknown): string => (typeof value === 'number' ? `${n(value)} µs` : '—');

export const SCENARIOS: readonly ScenarioEntry[] = [
  {
    name: 'ring/one-to-one-throughput',
    module: './ring/one-to-one-throughput',
    quickSeconds: 4,
    fullSeconds: 8,
    budget: 'total, shared by 4 ring configurations',
    headline: (r) => r.results.map((x: any): Figure => [`ring ${x.scenario}`, `${millions(x.overall?.recordsPerSecond ?? x.recordsPerSecond)} records/s`]),
  },
  {
    name: 'ring/ping-pong-latency',
    module: './ring/ping-pong-latency',
    quickSeconds: 6,
    fullSeconds: 9,
    budget: 'total, shared by 3 idle strategies',
    headline: (r) =>
      r.results.map((x: any): Figure => [
        `ring round trip, ${x.scenario}`,
        x.roundTrips === 0 ? 'no round trip after the warm-up (machine too busy for the budget)' : `p50 ${n(x.p50)} ns, p99 ${n(x.p99)} ns`,
      ]),
  },
  {
    name: 'ring/seqlock-read',
    module: './ring/seqlock-read',
    quickSeconds: 3,
    fullSeconds: 6,
    budget: 'total, shared by 3 prefixes, reads and writes',
    headline: (r) => r.results.map((x: any): Figure => [`mirror ${x.scenario}`, `read ${n(x.readNs)} ns, write ${n(x.writeNs)} ns`]),
  },
  {
    name: 'engine/order-book-apply',
    module: './engine/order-book-apply',
    quickSeconds: 5,
    fullSeconds: 10,
    budget: 'total',
    headline: (r) => [
      ['book apply, no listener', `${millions(r.noListener.eventsPerSecond)} events/s`],
      ['book apply, no-op listener', `${millions(r.noopListener.eventsPerSecond)} events/s`],
    ],
  },
  {
    name: 'engine/lobster-apply',
    module: './engine/lobster-apply',
    quickSeconds: 4,
    fullSeconds: 10,
    budget: 'total, shared by the samples',
    headline: (r) =>
      r.skipped ? [['LOBSTER apply', 'skipped: no data']] : r.samples.map((x: any): Figure => [`LOBSTER apply, ${x.sample.split('_').slice(0, 2).join(' ')} (${n(x.events)} events)`, `${millions(x.eventsPerSecond)} events/s`]),
  },
  {
    name: 'engine/stats-apply',
    module: './engine/stats-apply',
    quickSeconds: 3,
    fullSeconds: 12,
    budget: 'total, shared by 6 measurements',
    headline: (r) =>
      ['busy', 'quiet'].filter((flow) => r[flow]?.both).map((flow): Figure => [`24h stats + candles, ${flow} flow`, `${millions(r[flow].both.tradesPerSecond)} trades/s`]),
  },
  {
    name: 'engine/checkpoint-cost',
    module: './engine/checkpoint-cost',
    quickSeconds: 2,
    fullSeconds: 8,
    budget: 'total, shared by 4 book sizes',
    headline: (r) =>
      r.results.map((x: any): Figure => [
        `checkpoint of a symbol, ${n(x.orders)} orders + full 24h window (${n(x.bytes)} B)`,
        `encode ${x.encodeMs.median} ms, write ${x.writeMs.median} ms, load ${x.loadMs.median} ms (medians)`,
      ]),
  },
  {
    name: 'wire/encode',
    module: './wire/encode',
    quickSeconds: 0.3,
    fullSeconds: 1,
    budget: 'per codec scenario',
    headline: (r) =>
      ['encode l2Update 2 levels', 'encode l2Snapshot 10+10', 'renderJson l2Update 2 levels'].filter((k) => r[k]).map((k): Figure => [k, `${millions(r[k].perSecond)} /s, ${n(r[k].allocatedBytesPerCall)} B allocated`]),
  },
  {
    name: 'engine/worker-throughput',
    module: './engine/worker-throughput',
    quickSeconds: 4,
    fullSeconds: 10,
    budget: 'sizes the event count: 300k events per second of budget per measurement (4 or more measurements)',
    headline: (r) =>
      r.results.map((x: any): Figure => [
        `worker, ${x.flow.replace(/_34200000_57600000_message_\d+\.csv/, '')}, streams ${x.streams}`,
        `${millions(x.eventsPerSecond)} events/s (${millions(x.eventsPerWorkerCpuSecond)} per worker CPU-second)`,
      ]),
  },
  {
    name: 'journal/append-throughput',
    module: './journal/append-throughput',
    quickSeconds: 6,
    fullSeconds: 18,
    budget: 'total, shared by 5 (full: 9) scenarios',
    headline: (r) =>
      r.results.map((x: any): Figure => [
        `journal ${x.scenario}`,
        `${millions(x.eventsPerSecond)} events/s` + (x.durableMicros ? `, append→durable p50 ${micros(x.durableMicros.p50)} p99 ${micros(x.durableMicros.p99)}` : ''),
      ]),
  },
  {
    name: 'journal/restart-time',
    module: './journal/restart-time',
    quickSeconds: null,
    fullSeconds: 1,
    budget: 'unused: the journal is 3 M events',
    timeoutSeconds: () => 900,
    headline: (r) => r.results.map((x: any): Figure => [`restart, ${x.scenario}${x.journalEvents ? ` (${(x.journalEvents / 1e6).toFixed(1)} M events)` : ''}`, `${n(x.startMs)} ms to listening`]),
  },
  {
    name: 'journal/book-at-seek',
    module: './journal/book-at-seek',
    quickSeconds: 1,
    fullSeconds: 1,
    budget: 'unused: 12 (full: 24) copies of the GOOG level-10 day',
    headline: (r) =>
      (r.points ?? []).map((x: any): Figure => [
        `orderbook?at= journal part, copy ${x.copy} of ${r.copies} (${(r.journalEvents / 1e6).toFixed(1)} M events)`,
        `${x.beforeMs} ms reading ${n(x.beforeRecordsRead)} records → ${x.afterMs} ms reading ${n(x.afterRecordsRead)}`,
      ]),
  },
  {
    name: 'ingest/ack-latency',
    module: './ingest/ack-latency',
    quickSeconds: 9,
    fullSeconds: 25,
    budget: 'total, shared by 3 (full: 5) rates',
    headline: (r) =>
      r.results.map((x: any): Figure => [
        `ingest ${x.rate === 'max' ? 'at full speed' : `${n(x.rate)} arrivals/s`}`,
        `${n(x.eventsPerSecond)} events/s, due→durable ack p50 ${micros(x.ackMicros?.p50)} p99 ${micros(x.ackMicros?.p99)}`,
      ]),
  },
  {
    name: 'feeds/adapter-throughput',
    module: './feeds/adapter-throughput',
    quickSeconds: 4,
    fullSeconds: 10,
    budget: 'total, shared by the venues (half timed adapter, half the JSON.parse baseline)',
    headline: (r) => r.results.map((x: any): Figure => [`feed normalize, ${x.venue}`, `${n(x.messagesPerSecond)} messages/s (${x.adapterOverParse}× JSON.parse alone)`]),
  },
  {
    name: 'feeds/feed-latency',
    module: './feeds/feed-latency',
    quickSeconds: 6,
    fullSeconds: 20,
    budget: 'measured, shared by the two paths (plus 2 s warm-up)',
    headline: (r) => [
      ['feed → client, direct from the venue', `p50 ${micros(r.directFromVenue?.p50)} p99 ${micros(r.directFromVenue?.p99)}`],
      ['feed → client, through bookcast', `p50 ${micros(r.throughBookcast?.p50)} p99 ${micros(r.throughBookcast?.p99)}`],
    ],
  },
  {
    name: 'store/write-throughput',
    module: './store/write-throughput',
    quickSeconds: 6,
    fullSeconds: 20,
    budget: 'total, shared by 7 measurements (PostgreSQL COPY, re-write, symbol-first key, async commit, row-by-row INSERT; PGlite COPY, re-write)',
    headline: (r) => {
      const figures: Figure[] = [];
      const copy = (label: string, x: any) => {
        if (x?.rowsPerSecond !== undefined) figures.push([label, `${n(x.rowsPerSecond)} rows/s, ${n(x.rowsPerBackendCpuSecond)} per backend CPU-second`]);
      };
      copy('store PostgreSQL, COPY batches of 10k', r.postgres?.copyBatches);
      copy('store PostgreSQL, COPY, old symbol-first key', r.postgres?.symbolFirstKey);
      copy('store PostgreSQL, COPY, synchronous_commit off (reference)', r.postgres?.asyncCommit);
      if (r.postgres?.rowByRowInsert) figures.push(['store PostgreSQL, row-by-row INSERT', `${n(r.postgres.rowByRowInsert.rowsPerSecond)} rows/s`]);
      if (r.pglite?.copyBatches) figures.push(['store PGlite, COPY batches of 10k', `${n(r.pglite.copyBatches.rowsPerSecond)} rows/s`]);
      return figures;
    },
  },
  {
    name: 'store/usage-write',
    module: './store/usage-write',
    quickSeconds: 8,
    fullSeconds: 24,
    budget: 'total, shared by 2 rounds of PGlite and PostgreSQL',
    headline: (r) =>
      r.measurements.map((x: any): Figure => [
        `usage rows (one per REST answer), round ${x.round}`,
        `PGlite ${x.pglite.cpuMicrosPerRow} µs CPU/row; PostgreSQL ${x.postgres.backendCpuMicrosPerRow ?? x.postgres.skipped} µs backend + ${x.postgres.clientCpuMicrosPerRow ?? '—'} µs client CPU/row`,
      ]),
  },
  {
    name: 'store/read-flood-lag',
    module: './store/read-flood-lag',
    quickSeconds: 8,
    fullSeconds: 15,
    budget: 'measured seconds per point (each adds ~2 s of start-up and 3 s of warm-up)',
    headline: (r) =>
      r.results.map((x: any): Figure => [
        `store lag under ${x.clients} read-flooding clients, ${x.store}`,
        x.durableLagMs === undefined ? String(x.skipped ?? x.error) : `p50 ${x.durableLagMs.p50} ms, p99 ${x.durableLagMs.p99} ms, max ${x.durableLagMs.max} ms; ${n(x.readsAnsweredPerSecond)} reads/s answered`,
      ]),
  },
  {
    name: 'store/durable-lag',
    module: './store/durable-lag',
    quickSeconds: 5,
    fullSeconds: 10,
    budget: 'measured seconds per point (each adds ~2 s of start-up and 2 s of warm-up)',
    headline: (r) => [
      ...r.results.map((x: any): Figure => [
        `store durable lag, ${n(x.rate)} arrivals/s into PostgreSQL, --batch-ms ${x.batchMs}${x.storeEvents ? ', --store-events' : ''}`,
        x.skipped !== undefined
          ? `skipped: ${x.skipped}`
          : x.error !== undefined
            ? `FAILED: ${x.error.split('\n')[0]}`
            : `${n(x.tradesPerSecond)} trades/s durable; event→durable p50 ${x.durableLagMs.p50} ms, p99 ${x.durableLagMs.p99} ms, max ${x.durableLagMs.max} ms; ` +
              (x.storeEvents
                ? `${n(x.orderEventsPerSecond)} order events/s stored (${n(x.orderEventsBehindAtEnd)} behind at the end); backend ${x.backendMicrosPerRow ?? '—'} µs CPU per row, +${x.extraBackendMicrosPerEvent ?? '—'} µs per event`
                : `backend ${x.backendMicrosPerTrade ?? '—'} µs CPU per trade`),
      ]),
      [
        'store order events backfill from the journal into PostgreSQL',
        r.eventBackfill?.orderEventsPerSecond === undefined
          ? `skipped or failed: ${String(r.eventBackfill?.skipped ?? r.eventBackfill?.error ?? 'no result').split('\n')[0]}`
          : `${n(r.eventBackfill.orderEventsPerSecond)} rows/s, backend ${r.eventBackfill.backendMicrosPerRow} µs CPU per row`,
      ],
    ],
  },
  {
    name: 'gateway/end-to-end-latency',
    module: './gateway/end-to-end-latency',
    quickSeconds: 5,
    fullSeconds: 10,
    budget: 'measured seconds per point (each point adds ~2 s start-up, 2 s warm-up and the drain)',
    headline: (r) =>
      r.results.map((x: any): Figure => [
        `end to end, ${x.workers} worker${x.workers > 1 ? 's' : ''}, ${n(x.arrivalsPerSecond)} arrivals/s`,
        x.error !== undefined ? `FAILED: ${x.error.split('\n')[0]}` : `p50 ${micros(x.p50)}, p99 ${micros(x.p99)}, p99.9 ${micros(x.p999)}, max ${micros(x.max)}; ${n(x.deliveriesPerSecond)} deliveries/s; gaps ${n(x.gaps)}, disconnects ${n(x.disconnects)}`,
      ]),
  },
  {
    name: 'gateway/rest-open-loop',
    module: './gateway/rest-open-loop',
    quickSeconds: 2,
    fullSeconds: 5,
    budget: 'measured seconds per rate and target, and per wrk run (each point adds ~1.5 s of start-up, warm-up and drain)',
    // 4 targets × up to 10 rates, each point ~2.5 s more than its budget, plus wrk and start-ups.
    timeoutSeconds: (seconds, full) => 120 + (full ? 10 : 3) * 4 * (seconds + 4) + 4 * (seconds + 2),
    headline: restHeadline,
  },
  {
    name: 'limits/rate-limiter-checks',
    module: './limits/rate-limiter-checks',
    quickSeconds: 2,
    fullSeconds: 5,
    budget: 'measured seconds per part (in process, Redis closed loop, Redis open loop)',
    timeoutSeconds: (seconds) => 60 + 4 * seconds,
    headline: (r) => [
      ['rate-limit checks/s, in process', n(r.memory?.checksPerSecond)],
      ['rate-limit checks/s, Redis (64 in flight)', `${n(r.redis?.maxChecksPerSecond)} (×${r.redisShareOfMemory} of in process)`],
      [`rate-limit check latency, Redis at ${n(r.redis?.openLoop?.offeredPerSecond)}/s`, `p50 ${micros(r.redis?.openLoop?.p50Us)}, p99 ${micros(r.redis?.openLoop?.p99Us)}`],
    ],
  },
  {
    name: 'store/auth-relay-latency',
    module: './store/auth-relay-latency',
    quickSeconds: 6,
    fullSeconds: 15,
    budget: 'measured seconds, shared by direct and relayed (plus setting up 1,000 keys)',
    timeoutSeconds: (seconds) => 240 + 2 * seconds,
    headline: (r) => [
      [`key lookup on a cache miss, PGlite direct, ${r.rate}/s`, `p50 ${micros(r.direct?.p50Us)}, p99 ${micros(r.direct?.p99Us)}`],
      [`key lookup on a cache miss, through the SQL relay`, `p50 ${micros(r.relayed?.p50Us)}, p99 ${micros(r.relayed?.p99Us)}`],
    ],
  },
  {
    name: 'cache/latest-cache',
    module: './cache/latest-cache',
    quickSeconds: 5,
    fullSeconds: 10,
    budget: 'measured seconds, the three targets interleaved',
    timeoutSeconds: (seconds) => 180 + 3 * seconds,
    headline: (r) => [
      ['latest p50/p99 µs, in-memory book', `${n(r.results?.memory?.p50)} / ${n(r.results?.memory?.p99)}`],
      ['latest p50/p99 µs, Redis 5 s cache', `${n(r.results?.['redis-5s']?.p50)} / ${n(r.results?.['redis-5s']?.p99)} (×${r.redisOverMemory?.p50} / ×${r.redisOverMemory?.p99} of memory)`],
    ],
  },
  {
    name: 'gateway/auth-overhead',
    module: './gateway/auth-overhead',
    quickSeconds: 2,
    fullSeconds: 5,
    budget: 'measured seconds per rate and target (anonymous, API key, bearer token), then per target twice more (closed-loop ceilings: the Node client, and wrk when installed)',
    // 3 targets × up to 4 rates, each point ~2.5 s more than its budget, plus 3 × 2 ceilings, the CLI and start-up.
    // Start-up may take up to 300 s on a saturated machine (auth-overhead.ts START_TIMEOUT_MS).
    timeoutSeconds: (seconds, full) => 360 + (full ? 4 : 2) * 3 * (seconds + 4) + 3 * 2 * (seconds + 10),
    headline: (r) => [
      ...(r.added ?? []).flatMap((row: any): Figure[] => [
        [`auth p99 added at ${n(row.offered)}/s, API key`, `${micros(row['api key']?.p99AddedUs)} (×${row['api key']?.p99Ratio} of anonymous)`],
        [`auth p99 added at ${n(row.offered)}/s, bearer`, `${micros(row['bearer token']?.p99AddedUs)} (×${row['bearer token']?.p99Ratio} of anonymous)`],
      ]),
      ['REST requests/s with a key over anonymous (closed loop: Node client, wrk)', `×${r.ceilingRatio?.['api key']?.node}, ×${r.ceilingRatio?.['api key']?.wrk ?? '–'}`],
    ],
  },
  {
    name: 'gateway/tls-overhead',
    module: './gateway/tls-overhead',
    quickSeconds: 2,
    fullSeconds: 5,
    budget: 'measured seconds per figure and server (handshakes, two request sizes; plain then TLS)',
    // Two servers' start-up (up to 300 s each on a saturated machine), then 3 figures × 2 servers.
    timeoutSeconds: (seconds) => 660 + 3 * 2 * (seconds + 5),
    headline: (r) => [
      ['TLS 1.3 handshakes/s (over plain TCP connects/s)', `${n(r.handshakes?.tls?.perSecond)} (×${r.handshakes?.perSecondRatio})`],
      ...Object.entries(r.throughput ?? {}).map(([path, v]: [string, any]): Figure => [`HTTPS keep-alive answers/s over HTTP, ${path}`, `×${v.perSecondRatio}`]),
    ],
  },
  {
    name: 'gateway/fanout-peers',
    module: './gateway/fanout-peers',
    quickSeconds: 3,
    fullSeconds: 5,
    budget: 'measured seconds per point and system (each adds ~2 s of start-up, 2 s of warm-up and the drain)',
    // 5 systems per point, each up to ~15 s more than its budget (start-up, 1,000 connections, warm-up, grace).
    timeoutSeconds: (seconds, full) => 120 + (full ? 6 : 2) * 5 * (seconds + 20),
    headline: fanoutHeadline,
  },
  {
    name: 'gateway/server-idle-cpu',
    module: './gateway/server-idle-cpu',
    quickSeconds: 10,
    fullSeconds: 10,
    budget: 'measured seconds per case (no events, 1k arrivals/s, 100 arrivals/s with one subscriber) and round (each adds the start-up and 15 s of settling)',
    // Up to 3 rounds × 3 cases, each a start-up of up to 180 s on a saturated machine, 15 s of settling and the window.
    timeoutSeconds: (seconds, full) => 60 + (full ? 3 : 1) * 3 * (seconds + 205),
    headline: (r) =>
      r.measurements.map((m: any): Figure => [
        `server CPU, ${m.case}${r.rounds > 1 ? `, round ${m.round}` : ''}`,
        m.goalCores === null
          ? `${m.cores} cores, ${n(m.wakeupsPerSecond)} wake-ups/s, ${n(m.deliveriesPerSecond)} deliveries/s, ${m.cpuMicrosPerDelivery} µs per delivery, load ${m.loadAverageStart[0]}`
          : `${m.cores} cores (goal ${m.goalCores}: ${m.met ? 'met' : 'not met'}), ${n(m.wakeupsPerSecond)} wake-ups/s, load ${m.loadAverageStart[0]}`,
      ]),
  },
  {
    name: 'gateway/connections-held',
    module: './gateway/connections-held',
    quickSeconds: 3,
    fullSeconds: 5,
    budget: 'measured seconds per step (each step adds the connecting, ~2 s of RSS readings, 2 s of warm-up and the drain; each of the 2 series ~10 s of start-up)',
    // 2 series × up to 5 steps; connecting thousands on a saturated machine can take a minute.
    timeoutSeconds: (seconds, full) => 120 + 2 * (full ? 5 : 2) * (seconds + 80),
    headline: heldHeadline,
  },
  {
    name: 'gateway/client-sweep',
    module: './gateway/client-sweep',
    quickSeconds: 3,
    fullSeconds: 5,
    budget: "measured seconds per point (each point adds ~3 s of start-up, the clients' set-up, 2 s of warm-up and the drain)",
    // quick: 3 client counts + probe + 5 rates; full: 5 (two of 10,000 clients, ~60 s more each to connect) + probe + 10.
    timeoutSeconds: (seconds, full) => 120 + (full ? 16 : 9) * (seconds + 30) + (full ? 120 : 0),
    headline: sweepHeadline,
  },
  {
    name: 'client/frame-decode-cost',
    module: './client/frame-decode-cost',
    quickSeconds: 2,
    fullSeconds: 5,
    budget: 'sizes the operations per round (20,000 per budget second, 5 rounds each)',
    headline: (r) => [
      ['Client CPU per FlatBuffers L2 update: in-place envelope read / SDK decode / SDK decode + verified book, ns', `${n(r.nsPerMessage.envelopeRead)} / ${n(r.nsPerMessage.sdkDecode)} / ${n(r.nsPerMessage.sdkVerified)}`],
    ],
  },
  {
    name: 'fix/fix-render-cost',
    module: './fix/fix-render-cost',
    quickSeconds: 2,
    fullSeconds: 5,
    budget: 'sizes the operations per round (4,000 per budget second, 5 rounds each)',
    headline: (r) => [
      ['FIX per record (X body read from the frame), ns', n(r.fixPerRecord)],
      ['FIX per session (frame), ns', `${n(r.fixPerSession)} (JSON render ${n(r.json)}; jspurefix encoder ${n(r.jspurefix)})`],
    ],
  },
  {
    name: 'fix/fix-session-store-cost',
    module: './fix/fix-session-store-cost',
    quickSeconds: 2,
    fullSeconds: 5,
    budget: 'measured seconds per case (frame only, frame + session store)',
    headline: (r) => [
      ['FIX session store per message (claim, resend log, reservation sync), ns', `${n(r.storeAddsNs)} (median turns; frame alone ${n(r.frameOnly.nsPerMessageMedianTurn)}; with store ${n(r.withStore.messagesPerSecond)} messages/s)`],
      ['FIX session store turn of 64 messages, µs', `p50 ${n(r.withStore.turnP50Us)}, p99 ${n(r.withStore.turnP99Us)}, p99.9 ${n(r.withStore.turnP999Us)}, max ${n(r.withStore.turnMaxUs)} (frame only max ${n(r.frameOnly.turnMaxUs)})`],
    ],
  },
  {
    name: 'fix/fix-vs-websocket',
    module: './fix/fix-vs-websocket',
    quickSeconds: 8,
    fullSeconds: 15,
    budget: 'measured seconds per rate (2k and 20k arrivals/s)',
    timeoutSeconds: (seconds) => 600 + 4 * seconds,
    headline: (r) =>
      r.points.map((x: any): Figure => [
        `FIX adds over FlatBuffers WS, ${n(x.arrivalsPerSecond)} arrivals/s`,
        `p50 ${micros(x.fixAdds.p50)}, p99 ${micros(x.fixAdds.p99)}, max ${micros(x.fixAdds.max)}; FIX first ${n(x.fixAdds.fixFirst)} of ${n(x.fixAdds.count)}; ${n(x.fix.messagesPerSecond)} FIX messages/s per session`,
      ]),
  },
  {
    name: 'metrics/delivery-observer',
    module: './metrics/delivery-observer',
    quickSeconds: 3,
    fullSeconds: 6,
    budget: 'total, shared by 3 cases',
    headline: (r) => r.results.map((x: any): Figure => [`metrics per message, ${x.scenario}`, `${x.nsPerMessage} ns, ${x.heapBytesPerMessage} heap bytes`]),
  },
  {
    name: 'metrics/request-observer',
    module: './metrics/request-observer',
    quickSeconds: 2,
    fullSeconds: 4,
    budget: 'total, shared by 2 cases',
    headline: (r) => r.results.map((x: any): Figure => [`REST metrics per answer, ${x.scenario}`, `${x.nsPerMessage} ns, ${x.heapBytesPerMessage} heap bytes`]),
  },
  {
    name: 'distribution/recent-messages-cost',
    module: './distribution/recent-messages-cost',
    quickSeconds: 4,
    fullSeconds: 8,
    budget: 'total, shared by 4 cases',
    headline: (r) => r.results.map((x: any): Figure => [`per record, ${x.scenario}`, `p50 ${x.p50Ns} ns, p99 ${x.p99Ns} ns, ${x.cpuNsPerRecord} CPU ns, ${x.heapBytesPerRecord} heap bytes`]),
  },
  {
    name: 'metrics/scrape-cost',
    module: './metrics/scrape-cost',
    quickSeconds: 5,
    fullSeconds: 10,
    budget: 'measured seconds per point (2 points, full 4; each adds start-up, 2 s warm-up and the drain)',
    headline: (r) =>
      r.results.map((x: any): Figure => [
        `feed ${x.scrapeEverySecond ? 'with a scrape every second' : 'without scrapes'}`,
        `${n(x.eventsAppliedPerSecond)} events/s applied; p50 ${micros(x.p50)}, p99 ${micros(x.p99)}${x.scrapes === null ? '' : `; scrape p50 ${x.scrapes.p50Ms} ms`}`,
      ]),
  },
  {
    name: 'metrics/scrape-connections',
    module: './metrics/scrape-connections',
    quickSeconds: null,
    fullSeconds: 1,
    budget: 'unused (20 scrapes at 0, then at each step of 1,000 connections up to 10,000)',
    timeoutSeconds: () => 900,
    headline: (r) =>
      r.results.map((x: any): Figure => [
        `GET /metrics at ${n(x.connections)} connections`,
        x.error !== undefined ? `FAILED to open: ${x.error}` : `p50 ${x.p50Ms} ms, p99 ${x.p99Ms} ms, ${n(x.bytes)} bytes`,
      ]),
  },
];

function restHeadline(r: any): Figure[] {
  const figures: Figure[] = [];
  for (const [target, reason] of Object.entries(r.skipped ?? {})) figures.push([`REST ${target}`, `skipped: ${reason}`]);
  const targets = [...new Set<string>(r.points.map((p: any) => p.target))];
  for (const target of targets) {
    const points = r.points.filter((p: any) => p.target === target);
    const perRate = points
      .map((p: any) => (p.error !== undefined ? `${n(p.offered)}/s FAILED` : `${n(p.offered)}/s p50 ${micros(p.p50)} p99 ${micros(p.p99)} (${n(p.achieved)}/s answered${p.errors > 0 ? `, ${n(p.errors)} errors` : ''})`))
      .join('; ');
    const wrk = Array.isArray(r.wrk) ? r.wrk.find((w: any) => w.target === target) : undefined;
    const closed = wrk === undefined ? '' : wrk.error !== undefined ? '; wrk FAILED' : `; wrk ${n(wrk.requestsPerSecond)} req/s`;
    figures.push([`REST open loop, ${target}`, `${perRate}; sustained up to ${r.sustainedRate[target] === null ? 'none' : `${n(r.sustainedRate[target])}/s`}${closed}`]);
  }
  for (const [pair, x] of Object.entries<any>(r.ratios)) {
    figures.push([`REST ${pair}`, `wrk throughput ×${x.wrkThroughput ?? '—'}, sustained rate ×${x.sustainedRate ?? '—'}, server CPU per request ×${x.serverCpuPerRequest ?? '—'}`]);
  }
  return figures;
}

function fanoutHeadline(r: any): Figure[] {
  const figures: Figure[] = r.rows.map((x: any): Figure => [
    `fan-out, ${x.system}, ${n(x.clients)} clients${x.messagesPerSecond === null ? '' : `, ${n(x.messagesPerSecond)} msgs/s`}`,
    x.error !== undefined
      ? `FAILED: ${x.error.split('\n')[0]}`
      : `${n(x.deliveredPerSecond)} delivered/s; p50 ${micros(x.p50)}, p99 ${micros(x.p99)}, p99.9 ${micros(x.p999)}, max ${micros(x.max)}; gaps ${n(x.gaps)}, disconnects ${n(x.disconnects)}; server ${x.serverCpuSecondsPerMillion ?? '—'} CPU-s per M deliveries`,
  ]);
  for (const [pair, x] of Object.entries<any>(r.ratios)) {
    figures.push([`fan-out ${pair}`, `delivered ×${x.delivered ?? '—'}, p99 ×${x.p99 ?? '—'}, server CPU per delivery ×${x.serverCpuPerDelivery ?? '—'}`]);
  }
  return figures;
}

/** `name` may be the full name or its last part (`end-to-end-latency`). */
export function findScenario(name: string): ScenarioEntry | undefined {
  return SCENARIOS.find((s) => s.name === name || s.name.split('/').pop() === name);
}

function heldHeadline(r: any): Figure[] {
  const figures: Figure[] = [];
  for (const s of r.series) {
    if (s.error !== undefined) {
      figures.push([`connections held, ${s.name}`, `FAILED: ${s.error.split('\n')[0]}`]);
      continue;
    }
    for (const x of s.steps) {
      figures.push([
        `connections held, ${s.name} (${n(s.symbols)} symbols), ${n(x.connections)}`,
        x.error !== undefined
          ? `FAILED: ${x.error.split('\n')[0]}`
          : `p50 ${micros(x.p50)}, p99 ${micros(x.p99)}, p99.9 ${micros(x.p999)}, max ${micros(x.max)}; ${n(x.deliveriesPerSecond)} deliveries/s; server RSS ${n(x.serverRssMiB)} MiB, ${x.marginalRssPerConnectionKiB ?? '—'} KiB per added connection, ${x.serverCpuCores ?? '—'} cores; gaps ${n(x.gaps)}, disconnects ${n(x.disconnects)}${x.failure !== null ? `; FAILED: ${x.failure}` : ''}${x.clientsBehind !== null ? `; clients behind: ${x.clientsBehind}` : ''}`,
      ]);
    }
    const stop = s.stoppedAt === null ? '' : `; stopped at ${n(s.stoppedAt.connections)}: ${s.stoppedAt.reason.split('\n')[0]}`;
    figures.push([`connections held, ${s.name}: most held`, `${n(s.mostHeld)}, with p99 under 5 ms ${n(s.mostHeldWithP99UnderGoal)}${stop}`]);
  }
  figures.push(['connections held, goal: 19,000 with p99 under 5 ms', r.goal.met ? 'met' : 'not met']);
  return figures;
}

function sweepHeadline(r: any): Figure[] {
  const latency = (x: any): string =>
    x.error !== undefined
      ? `FAILED: ${x.error.split('\n')[0]}`
      : `p50 ${micros(x.p50)}, p90 ${micros(x.p90)}, p99 ${micros(x.p99)}, p99.9 ${micros(x.p999)}, max ${micros(x.max)}; ${n(x.deliveriesPerSecond)} deliveries/s${x.behind !== null ? `; behind: ${x.behind}` : ''}`;
  const figures: Figure[] = r.clientCounts.rows.map((x: any): Figure => [`client sweep, ${n(x.clients)} clients, ${n(x.arrivalsPerSecond)} arrivals/s`, latency(x)]);
  const sweep = r.rateSweep;
  figures.push([
    `client sweep, max rate (probe, ${n(sweep.clients)} clients)`,
    sweep.probe.error !== undefined ? `FAILED: ${sweep.probe.error.split('\n')[0]}` : `${n(sweep.maxRate)} arrivals/s (${n(sweep.probe.eventsAppliedPerSecond)} events/s applied when offered ${n(sweep.probe.offered)} arrivals/s)`,
  ]);
  for (const x of sweep.rows) figures.push([`client sweep, ${n(sweep.clients)} clients, ${n(x.arrivalsPerSecond)} arrivals/s (${Math.round(x.fraction * 100)}%)`, latency(x)]);
  figures.push(['client sweep, knee', sweep.knee === null ? (sweep.maxRate === null ? '—' : 'none up to the maximum') : `${n(sweep.knee.arrivalsPerSecond)} arrivals/s (${Math.round(sweep.knee.fraction * 100)}% of the maximum): ${sweep.knee.reason}`]);
  return figures;
}
