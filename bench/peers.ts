import { createRequire } from 'node:module';
import * as path from 'node:path';

/**
 * The peer servers the gateway benchmarks compare bookcast with (Fastify, ws, Socket.IO, Soketi) are
 * bench/'s own dependencies (bench/package.json, exact versions), installed apart from the
 * product with `npm install --prefix bench`. They are resolved from bench/node_modules
 * explicitly: the compiled scenarios run from dist/bench, where Node's lookup would never reach
 * bench/node_modules, and a static import would make the product's build fail wherever the peers
 * are not installed. A scenario that lacks a peer reports it as skipped, with the command above.
 */

const BENCH_DIR = path.resolve(__dirname, '../../bench');
const requireFromBench = createRequire(path.join(BENCH_DIR, 'package.json'));

export const PEER_INSTALL_HINT = 'npm install --prefix bench';

/** The peer package `name` from bench/node_modules; throws BENCH_PEER_MISSING when absent. */
export function loadPeer<T>(name: string): T {
  try {
    return requireFromBench(name) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw Object.assign(new Error(`peer package "${name}" is not installed in bench/node_modules (run: ${PEER_INSTALL_HINT})`), {
      code: 'BENCH_PEER_MISSING',
    });
  }
}

/** Where `request` (a peer package or a file in one) resolves from bench/node_modules; throws when absent. */
export function peerPath(request: string): string {
  return requireFromBench.resolve(request);
}

/** The installed version of peer package `name`, or null when it is not installed. */
export function peerVersion(name: string): string | null {
  try {
    return (requireFromBench(`${name}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}
