import t from 'tap';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { RECORD_BYTES } from '../../src/journal/journal-layout';
import { JournalReader } from '../../src/journal/journal-reader';
import { JournalWriter } from '../../src/journal/journal-writer';
import { Collector, temporaryDir } from './journal-fixtures';

/**
 * A real crash: a child process appends and syncs as fast as it can and prints each durable
 * sequence; the parent SIGKILLs it at a random moment, then reopens the journal and checks that
 * everything the child reported durable is there, word for word. Each round continues the journal
 * the previous round's crash left. Segments are small so kills also land around segment rolls;
 * rounds alternate blocking syncs and background (thread-pool) syncs.
 */
const ROUNDS = 6;
const SEGMENT_BYTES = RECORD_BYTES * 20_000;
const fixture = join(__dirname, 'fixtures', 'crash-writer.js');

interface Run {
  reported: number;
  lines: number;
}

async function crashRun(dir: string, mode: string, killAfterMs: number): Promise<Run> {
  const child = fork(fixture, [dir, String(SEGMENT_BYTES), mode], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const run: Run = { reported: 0, lines: 0 };
  let partial = '';
  let firstReport: () => void = () => {};
  const started = new Promise<void>((resolve) => (firstReport = resolve));
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (text: string) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const durable = Number(line);
      if (!(durable > run.reported)) throw new Error(`durable sequence went from ${run.reported} to '${line}'`);
      run.reported = durable;
      run.lines++;
    }
    if (run.lines > 0) firstReport();
  });
  const exited = once(child, 'exit');
  await Promise.race([started, exited]);
  await new Promise((resolve) => setTimeout(resolve, killAfterMs));
  child.kill('SIGKILL');
  const [code, signal] = await exited;
  if (signal !== 'SIGKILL') throw new Error(`crash writer ended by itself: code ${code}, signal ${signal}`);
  // A complete last line (no partial left) was written in full before the kill.
  return run;
}

t.test('after SIGKILL at a random moment, every record reported durable is in the journal', async (t) => {
  const dir = temporaryDir(t);
  let before = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const killAfterMs = 10 + Math.floor(Math.random() * 200);
    const mode = round % 2 === 0 ? 'background' : 'foreground';
    const run = await crashRun(dir, mode, killAfterMs);
    t.ok(run.reported > before, `round ${round} (${mode}): the writer made progress (durable ${run.reported} after ${run.lines} syncs, killed after ${killAfterMs} ms)`);

    const writer = JournalWriter.open(dir, { segmentBytes: SEGMENT_BYTES });
    const recovered = writer.nextSequence - 1;
    t.ok(recovered >= run.reported, `round ${round}: recovered ${recovered} >= reported ${run.reported} (torn tail: ${writer.recovery.truncatedBytes} bytes)`);
    t.equal(writer.durableSequence, recovered);
    writer.close();

    const collector = new Collector();
    const count = new JournalReader(dir).read(collector);
    t.equal(count, recovered, `round ${round}: replay delivers every record`);
    t.equal(collector.sequences[collector.sequences.length - 1], recovered);
    t.equal(collector.firstWrong, -1, `round ${round}: every record reads back word for word`);
    before = recovered;
  }
});
