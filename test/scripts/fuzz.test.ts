import t from 'tap';
import { runFuzz } from '../../scripts/fuzz/run-fuzz';

// Five real servers, one per target: their start-ups dominate on a busy machine.
t.setTimeout(900_000);

t.test('a small fuzz run: no crash, every error coded, the ingest books equal the model', async (t) => {
  const result = await runFuzz({ inputs: 3000, seconds: 600, seed: 7, checkMemory: false });
  t.equal(result.crashed, null, 'no crash');
  t.equal(result.uncoded_answers, 0, 'every error answer carries a catalog code');
  t.ok(result.books_equal, 'books equal to the model');
  t.same(
    result.targets.filter((r) => r.inputs === 0).map((r) => r.target),
    [],
    'every target got inputs',
  );
  const ingest = result.targets.find((r) => r.target === 'ingest')!;
  t.ok((ingest.extra!.valid_events as number) > 0, `${String(ingest.extra!.valid_events)} valid events reached the books`);
  const errors = result.targets.reduce((n, r) => n + Object.entries(r.answers).filter(([k]) => /^[A-Z_]+$/.test(k)).reduce((m, [, c]) => m + c, 0), 0);
  t.ok(errors > 0, `${errors} coded error answers checked`);
  t.ok(result.ok, 'the run passes');
  for (const r of result.targets) t.comment(`${r.target}: ${r.inputs} inputs, findings ${JSON.stringify(Object.fromEntries(Object.entries(r.findings).map(([k, f]) => [k, f.count])))}`);
});
