import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { functionCosts, perUnitFunctions } from '../../bench/callgrind-functions';

/**
 * A dump as callgrind writes it with --dump-instr=yes --dump-line=no: compressed names, relative
 * addresses, and a call whose inclusive cost must not count as the caller's own.
 */
const DUMP = `version: 1
positions: instr
events: Ir
fn=(1) Builtins_LoadIC
0x5000 7
+4 3
fn=(2) 0x0000000000001000
0x1000 10
+8 5
calls=2 0x5000
* 100
-4 1
fn=(2)
0x2000 20
totals: 146
`;

/** Node's code map: the JavaScript functions at those addresses. */
const MAP = `1000 20 JS:*commit /work/checkout/dist/src/engine/diff-emitter.js:201:11
2000 10 JS:~tick /work/checkout/dist/src/engine/symbol-state.js:5:3
`;

t.test("each cost line goes to the code object holding its address, or to callgrind's function", async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bookcast-callgrind-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'dump'), DUMP);
  writeFileSync(path.join(dir, 'map'), MAP);
  const costs = functionCosts(path.join(dir, 'dump'), path.join(dir, 'map'));
  t.same(Object.fromEntries(costs), {
    'Builtins_LoadIC': 10,
    'JS:*commit src/engine/diff-emitter.js:201:11': 16,
    'JS:~tick src/engine/symbol-state.js:5:3': 20,
  }, "the call line (100) is not the caller's own; names lose the checkout's path");
});

t.test('per unit: the long run less the short one, most first, the top N', async (t) => {
  const long = new Map([['a', 1_000], ['b', 5_000], ['c', 300], ['d', 50]]);
  const short = new Map([['a', 200], ['b', 1_000], ['d', 60]]);
  t.same(perUnitFunctions(long, short, 100, 3), [
    { name: 'b', perUnit: 40 },
    { name: 'a', perUnit: 8 },
    { name: 'c', perUnit: 3 },
  ]);
  t.same(perUnitFunctions(long, short, 100, 10).map((f) => f.name), ['b', 'a', 'c'], 'a function that cost less in the long run is left out');
});
