import { mirrorWords } from '../../src/engine/book-mirror';
import { SeqlockTable } from '../../src/ring/seqlock-table';
import { runStandalone } from '../standalone';

/**
 * SeqlockRead: what one consistent copy out of the book mirror costs the front thread (the REST
 * read path: ticker and orderbook answers read a mirror slot), and what one mirror update costs
 * the owning worker, in one thread with no other writer, so the figure is the protocol's own
 * cost: the version Atomics, the fence Atomic each side pays for arm64 (seqlock-table.ts), and
 * the copy. Prefixes: the header only (ticker), the header and 20 levels (orderbook?depth=20),
 * and all 500 levels. CPU time of this thread per operation, best of five rounds.
 */

const SLOTS = 64;
const PREFIXES = [
  { name: 'header (ticker)', words: mirrorWords(0) },
  { name: 'depth 20', words: mirrorWords(20) },
  { name: 'depth 500', words: mirrorWords(500) },
];

function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

function timeRounds(operations: number, seconds: number, body: (n: number) => void): number {
  body(operations); // warm-up and compile
  let best = Infinity;
  const rounds = 5;
  const until = performance.now() + (seconds * 1000) / rounds;
  for (let r = 0; r < rounds; r++) {
    let ops = 0;
    const start = cpuNs();
    do {
      body(operations);
      ops += operations;
    } while (performance.now() < until + (r * seconds * 1000) / rounds);
    best = Math.min(best, (cpuNs() - start) / ops);
  }
  return best;
}

export async function run({ seconds }: { seconds: number; full: boolean }): Promise<unknown> {
  const words = mirrorWords(500);
  const table = new SeqlockTable(new SharedArrayBuffer(SeqlockTable.byteLength(SLOTS, words)), SLOTS, words);
  const dst = new Float64Array(words);
  const per = seconds / (2 * PREFIXES.length);
  let sink = 0;
  const results = [];
  for (const prefix of PREFIXES) {
    const readNs = timeRounds(10_000, per, (n) => {
      for (let i = 0; i < n; i++) sink += table.read(i & (SLOTS - 1), dst, prefix.words);
    });
    const f = table.f64;
    const writeNs = timeRounds(10_000, per, (n) => {
      for (let i = 0; i < n; i++) {
        const slot = i & (SLOTS - 1);
        const base = table.base(slot);
        table.beginWrite(slot);
        for (let w = 0; w < prefix.words; w++) f[base + w] = i + w;
        table.endWrite(slot);
      }
    });
    results.push({ scenario: prefix.name, words: prefix.words, readNs, writeNs });
  }
  return { arch: process.arch, sink: sink & 1, results };
}

if (require.main === module) runStandalone(run, 6);
