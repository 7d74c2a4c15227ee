import { loadConfig, OPTIONS } from '../config';
import { BookcastError } from '../errors';
import { startServer } from '../app/server';
import { log } from '../util/log';

/** The banner and --help are for a person: plain lines on stdout (the JSON log goes to stderr). */
function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function usage(): string {
  const lines = OPTIONS.map((o) => `  --${o.flag.padEnd(24)} ${o.env.padEnd(34)} ${o.help} (default ${o.default})`);
  return ['usage: bookcast [start] [options]   (every option also reads its environment variable)', ...lines].join('\n');
}

/** `bookcast start`: runs the feed until SIGINT/SIGTERM. Returns the exit code. */
export async function startCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    say(usage());
    return 0;
  }
  try {
    const config = loadConfig(argv);
    const server = await startServer(config);
    const base = `${config.host}:${server.port}`;
    const source =
      config.source.kind === 'simulator'
        ? `simulator, ${config.source.rate} arrivals/s`
        : config.source.kind === 'none'
          ? 'none (books restored from the journal)'
          : config.source.kind === 'journal'
            ? `replay of the journal ${config.source.dir} at ${config.source.speed === 0 ? 'full speed' : `${config.source.speed}x`}`
            : config.source.kind === 'ingest'
              ? 'publishers over /ingest'
              : config.source.kind === 'feed'
                ? `${config.source.venue} feed (${config.source.symbols.map((s) => s.venueSymbol).join(', ')})`
                : config.source.kind === 'capture'
                  ? `capture ${config.source.path} at ${config.source.speed === 0 ? 'full speed' : `${config.source.speed}x`}`
                  : config.source.kind === 'follow'
                    ? `edge following ${config.replicationPrefix} at ${config.source.redisUrl}`
                    : config.source.kind === 'standby'
                    ? `standby following ${config.replicationPrefix} at ${config.source.redisUrl}, primary when its lease lapses`
                    : `LOBSTER replay of ${config.source.path}`;
    say(`bookcast is running: ${server.instruments.length} symbols (${server.instruments.map((i) => i.symbol).slice(0, 8).join(', ')}${server.instruments.length > 8 ? ', …' : ''}), ${server.workers} book worker${server.workers === 1 ? '' : 's'}, source: ${source}`);
    const [ws, http] = server.tls ? ['wss', 'https'] : ['ws', 'http'];
    say(`  WebSocket (JSON):        ${ws}://${base}/ws`);
    say(`  WebSocket (FlatBuffers): ${ws}://${base}/ws?format=flatbuffers`);
    say(`  REST:                    ${http}://${base}/api/v1/market/symbols`);
    say(`  Metrics (Prometheus):    ${http}://${base}/metrics   alerts: ${http}://${base}/api/v1/alerts`);
    if (server.fixPort !== null) say(`  FIX 4.4 (market data):   ${config.host}:${server.fixPort}${config.fix!.tlsCert !== '' ? ' (TLS)' : ''}, TargetCompID ${config.fix!.compId}`);
    say(`  Dashboard:               ${http}://${base}/dashboard`);
    say(`  API description:         ${http}://${base}/openapi.json, ${http}://${base}/asyncapi.json`);
    if (config.source.kind === 'ingest' || config.source.kind === 'standby') say(`  Ingest (publishers):     ${ws}://${base}/ingest?session=<name>  (Authorization: Bearer <publisher token>)`);
    say(`  try: curl ${http}://${base}/api/v1/market/${server.instruments[0].slug}/orderbook?depth=5`);
    const stopped = new Promise<number>((resolve) => {
      const stop = (signal: string) => {
        log.info({ signal }, `${signal}, stopping`);
        void server.stop().then(() => resolve(0));
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    const failure = server.failed.then(async (err) => {
      log.fatal({ code: err.code }, `${err.code}: ${err.message}`);
      await server.stop();
      return 1;
    });
    return await Promise.race([stopped, failure]);
  } catch (err) {
    if (err instanceof BookcastError) {
      log.fatal({ code: err.code }, `${err.code}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
