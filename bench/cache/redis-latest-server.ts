/**
 * The Redis side of cache/latest-cache.ts, in a process of its own (forked): a uWS server whose
 * GET /latest answers bookcast's `latest` body from Redis, cached there for 5 s (SET … EX 5 on a
 * miss, fetched from bookcast): the "latest data 5 s" cache in its most favourable form
 * (no admission, no rendering, nothing but the Redis round trip and the answer).
 *
 * argv: bookcast's latest URL, the Redis URL, the key. parent ← { type: 'listening', port }.
 */
import Redis from 'ioredis';
import { loadUws } from '../../src/gateway/uws';

export const LATEST_TTL_S = 5;

const [source, redisUrl, key] = process.argv.slice(2);
const redis = new Redis(redisUrl);
const uws = loadUws();
const app = uws.App();

async function latest(): Promise<Buffer> {
  const kept = await redis.getBuffer(key);
  if (kept !== null) return kept;
  const body = Buffer.from(await (await fetch(source)).arrayBuffer());
  await redis.set(key, body, 'EX', LATEST_TTL_S);
  return body;
}

app.get('/latest', (res) => {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  latest().then(
    (body) => {
      // uWS takes a Buffer as it is (a Uint8Array); only the type names differ.
      if (!aborted) res.cork(() => res.writeHeader('content-type', 'application/json').end(body as unknown as Uint8Array<ArrayBuffer>));
    },
    () => {
      if (!aborted) res.cork(() => res.writeStatus('503 Service Unavailable').end());
    },
  );
});
app.listen('127.0.0.1', 0, (token) => {
  if (token) process.send!({ type: 'listening', port: uws.us_socket_local_port(token) });
  else process.exit(1);
});
process.on('disconnect', () => process.exit(0));
