import { loadConfig, OPTIONS } from '../config';
import { BookcastError } from '../errors';
import { startServer } from '../app/server';

function usage(): string {
  const lines = OPTIONS.map((o) => `  --${o.flag.padEnd(24)} ${o.env.padEnd(34)} ${o.help} (default ${o.default})`);
  return ['usage: bookcast [start] [options]   (every option also reads its environment variable)', ...lines].join('\n');
}

/** `bookcast start`: runs the feed until SIGINT/SIGTERM. Returns the exit code. */
export async function startCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage());
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
              : `LOBSTER replay of ${config.source.path}`;
    console.log(`bookcast is running: ${server.instruments.length} symbols (${server.instruments.map((i) => i.symbol).slice(0, 8).join(', ')}${server.instruments.length > 8 ? ', …' : ''}), ${server.workers} book worker${server.workers === 1 ? '' : 's'}, source: ${source}`);
    const [ws, http] = server.tls ? ['wss', 'https'] : ['ws', 'http'];
    console.log(`  WebSocket (JSON):        ${ws}://${base}/ws`);
    console.log(`  WebSocket (FlatBuffers): ${ws}://${base}/ws?format=flatbuffers`);
    console.log(`  REST:                    ${http}://${base}/api/v1/market/symbols`);
    if (config.source.kind === 'ingest') console.log(`  Ingest (publishers):     ${ws}://${base}/ingest?session=<name>  (Authorization: Bearer <publisher token>)`);
    console.log(`  try: curl ${http}://${base}/api/v1/market/${server.instruments[0].slug}/orderbook?depth=5`);
    const stopped = new Promise<number>((resolve) => {
      const stop = (signal: string) => {
        console.log(`bookcast: ${signal}, stopping`);
        void server.stop().then(() => resolve(0));
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    const failure = server.failed.then(async (err) => {
      console.error(`bookcast: ${err.code}: ${err.message}`);
      await server.stop();
      return 1;
    });
    return await Promise.race([stopped, failure]);
  } catch (err) {
    if (err instanceof BookcastError) {
      console.error(`bookcast: ${err.code}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
