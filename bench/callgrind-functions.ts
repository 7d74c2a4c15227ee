import { readFileSync } from 'node:fs';

/**
 * Self instructions per function from a callgrind dump, JavaScript included. Callgrind knows
 * native functions by their symbols, but V8's generated code has none: it is counted under
 * whatever address block callgrind met first. Node started with `--perf-basic-prof` writes every
 * code object's address range and name to /tmp/perf-<pid>.map, and a dump taken with
 * `--dump-instr=yes` gives the cost of each instruction address, so each cost line is named by
 * the code object that holds its address, or else by callgrind's own function.
 *
 * Instruction counts do not depend on the machine's load, so a per-function table taken this way
 * says exactly where a change moved instructions; a sampling profile on this shared machine says
 * it only within its noise.
 */

/** Arguments for valgrind, before the program. */
export const FUNCTION_COST_VALGRIND_ARGS = ['--dump-instr=yes', '--dump-line=no'];

/** Arguments for Node: the code map, and V8's log (which the map turns on) in `dir`, not the working directory. */
export function functionCostNodeArgs(dir: string): string[] {
  return ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${dir}/v8.log`];
}

/** Where Node under valgrind (same pid) writes its code map. */
export function perfMapPath(pid: number): string {
  return `/tmp/perf-${pid}.map`;
}

interface CodeRange {
  start: number;
  end: number;
  name: string;
}

function readCodeRanges(perfMap: string, shorten: (name: string) => string): CodeRange[] {
  const ranges: CodeRange[] = [];
  for (const line of readFileSync(perfMap, 'utf8').split('\n')) {
    const first = line.indexOf(' ');
    const second = line.indexOf(' ', first + 1);
    if (first < 0 || second < 0) continue;
    const start = parseInt(line.slice(0, first), 16);
    ranges.push({ start, end: start + parseInt(line.slice(first + 1, second), 16), name: shorten(line.slice(second + 1)) });
  }
  // A later code object at the same address (code space reused after a GC) replaces the earlier.
  ranges.sort((a, b) => a.start - b.start);
  return ranges;
}

function rangeAt(ranges: CodeRange[], address: number): CodeRange | null {
  let lo = 0;
  let hi = ranges.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid].start <= address) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found >= 0 && address < ranges[found].end ? ranges[found] : null;
}

/** Callgrind's number syntax: decimal or 0x hexadecimal. */
function parseNumber(text: string): number {
  return text.startsWith('0x') ? parseInt(text.slice(2), 16) : Number(text);
}

/** A code object's name without the checkout's path: `JS:*commit src/engine/diff-emitter.js:201:11`. */
function withoutCheckoutPath(name: string): string {
  return name.replace(/ \/\S*?\/dist\//, ' ');
}

/** Self instructions (the first event column) per function name over a whole dump. */
export function functionCosts(dumpPath: string, perfMap: string): Map<string, number> {
  const ranges = readCodeRanges(perfMap, withoutCheckoutPath);
  const names = new Map<string, string>();
  const costs = new Map<string, number>();
  // "(id) name" defines a compressed name, "(id)" refers to one.
  const nameOf = (spec: string): string => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(spec);
    if (m === null) return spec;
    if (m[2] !== undefined) names.set(m[1], m[2]);
    return names.get(m[1]) ?? spec;
  };
  let fn = '?';
  let positions = 1;
  let address = 0;
  let skipCallCost = false;
  for (const line of readFileSync(dumpPath, 'utf8').split('\n')) {
    if (line.length === 0) continue;
    const c = line.charCodeAt(0);
    const isCost = (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2a;
    if (!isCost) {
      if (line.startsWith('fn=')) fn = nameOf(line.slice(3));
      else if (line.startsWith('cfn=')) nameOf(line.slice(4));
      else if (line.startsWith('calls=')) skipCallCost = true;
      else if (line.startsWith('positions:')) positions = line.trim().split(/\s+/).length - 1;
      continue;
    }
    const parts = line.split(' ');
    const p = parts[0];
    if (p === '*') {
      // The same address as the line before.
    } else if (p[0] === '+') address += parseNumber(p.slice(1));
    else if (p[0] === '-') address -= parseNumber(p.slice(1));
    else address = parseNumber(p);
    // The line after calls= is the call's inclusive cost, already counted where it was spent.
    if (skipCallCost) {
      skipCallCost = false;
      continue;
    }
    const cost = parts.length > positions ? parseNumber(parts[positions]) : 0;
    if (cost === 0) continue;
    const name = rangeAt(ranges, address)?.name ?? fn;
    costs.set(name, (costs.get(name) ?? 0) + cost);
  }
  return costs;
}

export interface FunctionShare {
  name: string;
  /** Instructions per unit (event, answer) spent in the function itself. */
  perUnit: number;
}

/**
 * The functions that took most instructions per unit between two runs of the same program, a
 * short and a long one (start-up and warm-up cancel out), `units` apart. Optimized and
 * unoptimized code of one function are kept apart: their names differ in V8's tier mark.
 */
export function perUnitFunctions(long: Map<string, number>, short: Map<string, number>, units: number, top: number): FunctionShare[] {
  const rows: FunctionShare[] = [];
  for (const [name, cost] of long) {
    const perUnit = (cost - (short.get(name) ?? 0)) / units;
    if (perUnit > 0) rows.push({ name, perUnit: Math.round(perUnit * 10) / 10 });
  }
  rows.sort((a, b) => b.perUnit - a.perUnit);
  return rows.slice(0, top);
}
