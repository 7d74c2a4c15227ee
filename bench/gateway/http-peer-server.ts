/**
 * A reference HTTP server for the open-loop REST benchmark, forked by rest-open-loop.ts with its
 * kind as argument, in a process of its own (as bookcast runs in its own): it answers every GET
 * with the same fixed JSON body, so what it costs is the server framework and nothing else.
 *
 *   uws      bare uWebSockets.js, the library bookcast is built on: the ceiling
 *   fastify  Fastify (bench/node_modules), a peer Node framework, logging off
 *
 * parent → server  { type: 'serve', body }   body: the text to answer with
 * server → parent  { type: 'listening', port } or { type: 'failed', message }
 */
import { loadUws } from '../../src/gateway/uws';
import { loadPeer } from '../peers';

export type HttpPeerKind = 'uws' | 'fastify';

export interface ServeMessage {
  type: 'serve';
  body: string;
}

export type PeerServerMessage = { type: 'listening'; port: number } | { type: 'failed'; message: string };

interface FastifyReply {
  header(name: string, value: string): FastifyReply;
  send(payload: unknown): void;
}

interface FastifyInstance {
  get(path: string, handler: (request: unknown, reply: FastifyReply) => void): void;
  listen(options: { host: string; port: number }): Promise<string>;
  server: { address(): { port: number } };
}

const HOST = '127.0.0.1';

function serveUws(body: Uint8Array): Promise<number> {
  const uws = loadUws();
  const app = uws.App();
  app.get('/*', (res) => {
    res.writeHeader('Content-Type', 'application/json').end(body);
  });
  return new Promise((resolve, reject) => {
    app.listen(HOST, 0, (token) => (token ? resolve(uws.us_socket_local_port(token)) : reject(new Error('uWS could not listen'))));
  });
}

async function serveFastify(body: Uint8Array): Promise<number> {
  const fastify = loadPeer<(options: { logger: boolean }) => FastifyInstance>('fastify');
  const app = fastify({ logger: false });
  // A Buffer, as a Fastify handler would hold it: a plain Uint8Array is wrapped anew per answer.
  const payload = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  app.get('/*', (_request, reply) => {
    reply.header('content-type', 'application/json').send(payload);
  });
  await app.listen({ host: HOST, port: 0 });
  return app.server.address().port;
}

function reply(message: PeerServerMessage): void {
  process.send!(message);
}

process.on('message', (message: ServeMessage) => {
  if (message.type !== 'serve') return;
  const body = new TextEncoder().encode(message.body);
  const kind = process.argv[2] as HttpPeerKind;
  const serving = kind === 'uws' ? serveUws(body) : kind === 'fastify' ? serveFastify(body) : Promise.reject(new Error(`unknown server kind "${kind}"`));
  serving.then(
    (port) => reply({ type: 'listening', port }),
    (err: Error) => reply({ type: 'failed', message: err.message }),
  );
});
// The parent is gone: nobody left to serve.
process.on('disconnect', () => process.exit(0));
