import { BookcastError } from '../errors';

type Uws = typeof import('uWebSockets.js');

declare module 'uWebSockets.js' {
  interface TemplatedApp {
    /** Closes the listening sockets and every connection still open. The binary has it; the package's typings do not. */
    close(): TemplatedApp;
  }
}

/**
 * Loads uWebSockets.js and refuses its pure-JavaScript fallback. The package silently falls back
 * to a Node implementation when its native binary does not load (wrong glibc, wrong ABI, or
 * UWS_USE_FALLBACK set); that fallback is orders of magnitude slower and lacks the topic fan-out
 * this server is built on, so running on it would be a lie about every figure in the README.
 */
export function loadUws(): Uws {
  const fallbackPath = require.resolve('uWebSockets.js/dist/index');
  const warn = console.warn;
  const log = console.log;
  const notes: string[] = [];
  // The package explains itself on the console while falling back; keep its words for our error.
  console.warn = console.log = (...args: unknown[]) => void notes.push(args.map(String).join(' '));
  let uws: Uws;
  try {
    uws = require('uWebSockets.js') as Uws;
  } finally {
    console.warn = warn;
    console.log = log;
  }
  if (require.cache[fallbackPath] !== undefined) {
    const why = notes.join(' ').replace(/\s+/g, ' ').trim();
    throw new BookcastError(
      'UWS_FALLBACK',
      `uWebSockets.js loaded its pure-JavaScript fallback instead of the native binary; refusing to start. ${why}`,
    );
  }
  // uWS stamps every HTTP answer with its own name and version ("uWebSockets: 20"), which tells a
  // scanner what to aim at and nothing a client needs. 'silent' is the binary's switch for that mark.
  uws._cfg('silent');
  return uws;
}
