import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The folder map of src/README.md, checked on the source text: no folder imports a folder that
 * imports it back (directly or around a loop), model/ stands on nothing but ring/, util/ and the
 * error catalog, and only wire/ touches flatc's generated code. A folder is the first directory
 * under src/; each file directly in src/ (main, config, errors) is a node of its own.
 */
const SRC = path.resolve(__dirname, '../../../src');

/** Node name of a file under src/: its top folder, or the file's own name for files in src/. */
function nodeOf(file: string): string {
  const parts = path.relative(SRC, file).split(path.sep);
  return parts[0];
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) sourceFiles(p, out);
    else if (entry.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

/** Every relative import of every file under src/, as absolute paths without extension. */
function imports(): { from: string; to: string }[] {
  const edges: { from: string; to: string }[] = [];
  for (const file of sourceFiles(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(SPECIFIER)) edges.push({ from: file, to: path.resolve(path.dirname(file), m[1].replace(/\.js$/, '')) + '.ts' });
  }
  return edges;
}

type Graph = Map<string, Set<string>>;

function folderGraph(edges: { from: string; to: string }[]): Graph {
  const graph: Graph = new Map();
  for (const { from, to } of edges) {
    const a = nodeOf(from);
    const b = nodeOf(to);
    if (!graph.has(a)) graph.set(a, new Set());
    if (a !== b) graph.get(a)!.add(b);
  }
  return graph;
}

/** A loop through the graph as a list of nodes (first = last), or null if there is none. */
function findCycle(graph: Graph): string[] | null {
  const state = new Map<string, 1 | 2>(); // 1: on the current path, 2: done
  const trail: string[] = [];
  const visit = (node: string): string[] | null => {
    state.set(node, 1);
    trail.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 1) return [...trail.slice(trail.indexOf(next)), next];
      if (state.get(next) === undefined) {
        const found = visit(next);
        if (found) return found;
      }
    }
    trail.pop();
    state.set(node, 2);
    return null;
  };
  for (const node of [...graph.keys()].sort()) {
    if (state.get(node) === undefined) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return null;
}

const MODEL_MAY_IMPORT = new Set(['model', 'ring', 'util', 'errors.ts']);

t.test('the checker finds a loop when there is one, and none when there is none', async (t) => {
  const g = (pairs: [string, string][]): Graph => {
    const graph: Graph = new Map();
    for (const [a, b] of pairs) {
      if (!graph.has(a)) graph.set(a, new Set());
      if (!graph.has(b)) graph.set(b, new Set());
      graph.get(a)!.add(b);
    }
    return graph;
  };
  t.same(findCycle(g([['wire', 'engine'], ['engine', 'wire']])), ['engine', 'wire', 'engine']);
  t.same(findCycle(g([['a', 'b'], ['b', 'c'], ['c', 'a'], ['d', 'a']])), ['a', 'b', 'c', 'a']);
  t.equal(findCycle(g([['gateway', 'engine'], ['engine', 'model'], ['gateway', 'model']])), null);
});

t.test('the source tree has imports to check', async (t) => {
  const graph = folderGraph(imports());
  for (const folder of ['model', 'engine', 'wire', 'gateway', 'journal', 'source', 'store', 'ring']) t.ok(graph.has(folder), `${folder}/ is seen`);
  t.ok(graph.get('engine')!.has('model'), 'engine/ imports model/');
});

t.test('no folder under src/ imports a folder that imports it back', async (t) => {
  const cycle = findCycle(folderGraph(imports()));
  t.equal(cycle === null ? null : cycle.join(' → '), null, `folder imports form no loop${cycle === null ? '' : ': ' + cycle.join(' → ')}`);
});

t.test('model/ imports nothing above ring/ and util/', async (t) => {
  const bad = imports()
    .filter(({ from, to }) => nodeOf(from) === 'model' && !MODEL_MAY_IMPORT.has(nodeOf(to)))
    .map(({ from, to }) => `${path.relative(SRC, from)} → ${path.relative(SRC, to)}`);
  t.same(bad, []);
});

t.test('only wire/ imports the generated FlatBuffers code', async (t) => {
  const generated = path.join(SRC, 'wire', 'generated') + path.sep;
  const bad = imports()
    .filter(({ from, to }) => to.startsWith(generated) && nodeOf(from) !== 'wire')
    .map(({ from, to }) => `${path.relative(SRC, from)} → ${path.relative(SRC, to)}`);
  t.same(bad, []);
});

/** The SDK runs in the user's process: it stands on the wire formats and the shared vocabulary only, and nothing of the server depends on it. */
const CLIENT_MAY_IMPORT = new Set(['client', 'wire', 'model', 'util']);

t.test('client/ imports only wire/, model/ and util/, and no server folder imports client/', async (t) => {
  const edges = imports();
  const out = edges.filter(({ from, to }) => nodeOf(from) === 'client' && !CLIENT_MAY_IMPORT.has(nodeOf(to)));
  const into = edges.filter(({ from, to }) => nodeOf(to) === 'client' && nodeOf(from) !== 'client');
  t.same([...out, ...into].map(({ from, to }) => `${path.relative(SRC, from)} → ${path.relative(SRC, to)}`), []);
  t.ok(edges.some(({ from }) => nodeOf(from) === 'client'), 'client/ is seen');
});
