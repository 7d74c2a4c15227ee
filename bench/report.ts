import type { MachineInfo } from './system';
import type { Figure } from './scenarios';

/** What one `npm run bench` leaves in bench/results/<timestamp>.json. */
export interface RunRecord {
  startedAt: string;
  command: string;
  suite: 'quick' | 'full';
  machine: MachineInfo;
  loadAverageEnd: number[];
  scenarios: ScenarioRecord[];
}

export interface ScenarioRecord {
  name: string;
  seconds: number;
  budget: string;
  status: 'ok' | 'failed';
  error?: string;
  wallSeconds: number;
  /** The scenario's own process, every thread. */
  processCpuSeconds: number | null;
  /** The scenario's whole process tree (servers and client processes included). */
  treeCpuSeconds: number | null;
  /** Busy cores of the whole machine over the scenario, everyone's work included. */
  machineBusyCores: number | null;
  /** machineBusyCores less the scenario's own tree: what others ran meanwhile. */
  otherCores: number | null;
  loadAverageStart: number[];
  maxRssMiB: number | null;
  summary: Figure[];
  result: unknown;
}

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRow = (v: unknown): boolean => isPlain(v) && Object.values(v).every((x) => !isPlain(x) || Object.values(x).every((y) => !isPlain(y)));

function cell(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? value.toLocaleString('en-US') : String(value);
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string') return value.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
  return JSON.stringify(value).replace(/\|/g, '\\|');
}

function table(header: string[], rows: unknown[][]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

/** A row's nested records become dotted columns (`overall.recordsPerSecond`). */
function flatten(row: Record<string, unknown>): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (isPlain(value)) for (const [sub, v] of Object.entries(value)) flat[`${key}.${sub}`] = v;
    else flat[key] = value;
  }
  return flat;
}

function rowsTable(rows: Record<string, unknown>[]): string {
  const flat = rows.map(flatten);
  const keys: string[] = [];
  for (const row of flat) for (const k of Object.keys(row)) if (!keys.includes(k)) keys.push(k);
  return table(keys, flat.map((row) => keys.map((k) => row[k])));
}

/**
 * Any scenario result as markdown: scalars (nested ones with dotted names) as a list, arrays
 * of records as tables, and a record of records (name → figures) as one table.
 */
export function renderResult(result: unknown): string {
  if (!isPlain(result)) return `\`${cell(result)}\``;
  const values = Object.values(result);
  if (values.length > 0 && values.every(isRow)) {
    const rows = Object.entries(result).map(([name, row]) => ({ name, ...(row as Record<string, unknown>) }));
    return rowsTable(rows);
  }
  const list: string[] = [];
  const tables: string[] = [];
  const walk = (prefix: string, object: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(object)) {
      const name = prefix + key;
      if (Array.isArray(value) && value.every(isPlain)) tables.push(`${name}:\n\n${rowsTable(value as Record<string, unknown>[])}`);
      else if (isPlain(value)) walk(`${name}.`, value);
      else list.push(`- ${name}: ${cell(value)}`);
    }
  };
  walk('', result);
  return [list.join('\n'), ...tables].filter((s) => s !== '').join('\n\n');
}

const fixed = (v: number | null, digits: number) => (v === null ? '—' : v.toFixed(digits));

export function renderMarkdown(run: RunRecord): string {
  const m = run.machine;
  const out: string[] = [];
  out.push(`# bookcast benchmarks, ${run.startedAt}`);
  out.push('');
  out.push(`Command: \`${run.command}\` (${run.suite} suite)`);
  out.push('');
  out.push(`Machine: ${m.cpuModel}, ${m.cores} cores (available parallelism ${m.availableParallelism}), ${m.memoryGiB} GiB, ${m.platform}, Linux ${m.kernel}, Node ${m.node} (V8 ${m.v8})`);
  out.push('');
  out.push(`Load average (1/5/15 min): ${m.loadAverage.join(' / ')} at start, ${run.loadAverageEnd.join(' / ')} at end.`);
  out.push('');
  out.push('## Summary');
  out.push('');
  const summary: unknown[][] = [];
  for (const s of run.scenarios) {
    if (s.status === 'failed') summary.push([s.name, 'FAILED', (s.error ?? '').split('\n')[0]]);
    for (const [label, value] of s.summary) summary.push([s.name, label, value]);
  }
  out.push(table(['Scenario', 'Figure', 'Value'], summary));
  out.push('');
  out.push('## Cost and noise per scenario');
  out.push('');
  out.push(
    'CPU seconds: the scenario process (all threads) and its whole tree (servers, client processes). Busy cores: the whole machine over the scenario; "others" is that less the scenario tree, i.e. what other users ran meanwhile.',
  );
  out.push('');
  out.push(
    table(
      ['Scenario', 'Budget (s)', 'Wall (s)', 'CPU process (s)', 'CPU tree (s)', 'Busy cores', 'Others (cores)', 'Load at start', 'Max RSS (MiB)'],
      run.scenarios.map((s) => [
        s.name,
        s.seconds,
        fixed(s.wallSeconds, 1),
        fixed(s.processCpuSeconds, 1),
        fixed(s.treeCpuSeconds, 1),
        fixed(s.machineBusyCores, 2),
        fixed(s.otherCores, 2),
        s.loadAverageStart.join(' / '),
        s.maxRssMiB,
      ]),
    ),
  );
  for (const s of run.scenarios) {
    out.push('');
    out.push(`## ${s.name}`);
    out.push('');
    out.push(`Budget: ${s.seconds} s (${s.budget}).`);
    out.push('');
    out.push(s.status === 'ok' ? renderResult(s.result) : `FAILED:\n\n\`\`\`\n${s.error}\n\`\`\``);
  }
  out.push('');
  return out.join('\n');
}
