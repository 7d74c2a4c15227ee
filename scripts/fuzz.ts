/**
 * `npm run fuzz`: a bounded fuzz run against real servers (scripts/fuzz/run-fuzz.ts). Stops by
 * itself at --inputs or --seconds, prints a line per target and a summary, writes the whole
 * result as JSON (--out), and exits 1 when the run fails (crash, uncoded answer, memory growth,
 * books unlike the model).
 *
 *   npm run fuzz -- [--inputs 1000000] [--seconds 600 (per target)] [--seed 1] [--out dist/fuzz-results.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { runFuzz } from './fuzz/run-fuzz';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      inputs: { type: 'string', default: '1000000' },
      seconds: { type: 'string', default: '600' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string', default: 'dist/fuzz-results.json' },
    },
  });
  const number = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${text}`);
    return n;
  };
  const result = await runFuzz({ inputs: number('inputs', values.inputs!), seconds: number('seconds', values.seconds!), seed: number('seed', values.seed!), checkMemory: true, log: (l) => console.log(l) });
  mkdirSync(dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, JSON.stringify(result, null, 2) + '\n');
  console.log(
    `fuzz: ${result.inputs} inputs in ${result.seconds} s (${result.inputs_per_s}/s), seed ${result.seed}: ` +
      `crash ${result.crashed ?? 'none'}, uncoded answers ${result.uncoded_answers}, memory ${result.memory_grew ? 'GREW' : 'flat'}, ` +
      `books ${result.books_equal ? 'equal to the model' : 'DIFFER'}, other findings ${result.findings - result.uncoded_answers} → ${result.ok ? 'PASS' : 'FAIL'} (${values.out})`,
  );
  // Servers' worker threads and sockets are stopped; exit explicitly in case a client lingers.
  process.exit(result.ok ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
