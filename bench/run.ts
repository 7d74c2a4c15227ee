/**
 * The benchmark runner: `npm run bench` runs the quick suite, `npm run bench -- --full` the full
 * one, `--only <name>[,<name>…]` chosen scenarios (full name or its last part), `--seconds <n>`
 * overrides every budget, `--list` shows the scenarios. Results go to
 * bench/results/<timestamp>.json and bench/results/latest.md, and the markdown is printed.
 *
 * Each scenario runs in a fresh child process (this file with --child), one after another, so
 * none inherits another's JIT state, heap or threads, and its CPU can be told apart: its own
 * (process.cpuUsage, reported by the child) and its whole tree (cutime/cstime once reaped,
 * which includes the servers and clients it started). The child leads its own process group,
 * so a timeout or a Ctrl-C here ends the scenario with everything it started.
 */
import { ChildProcess, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { renderMarkdown, RunRecord, ScenarioRecord } from './report';
import { findScenario, SCENARIOS, ScenarioEntry } from './scenarios';
import { finishedChildrenCpuSeconds, loadAverage, machineBusySeconds, machineInfo, round } from './system';

const RESULTS_DIR = path.resolve(__dirname, '../../bench/results');
const KILL_GRACE_MS = 3000;

interface ChildReport {
  result?: unknown;
  error?: string;
  cpuSeconds: number;
  maxRssMiB: number;
}

interface Options {
  full: boolean;
  only: ScenarioEntry[] | null;
  seconds: number | null;
  list: boolean;
}

function usageError(message: string): never {
  console.error(`bench: ${message}\nusage: npm run bench -- [--full] [--only <name>[,<name>…]] [--seconds <n>] [--list]`);
  process.exit(2);
}

function parseOptions(argv: string[]): Options {
  const options: Options = { full: false, only: null, seconds: null, list: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--full') options.full = true;
    else if (arg === '--list') options.list = true;
    else if (arg === '--only') {
      const names = (argv[++i] ?? '').split(',').filter((s) => s !== '');
      if (names.length === 0) usageError('--only needs a scenario name');
      options.only = names.map((name) => findScenario(name) ?? usageError(`unknown scenario "${name}" (see --list)`));
    } else if (arg === '--seconds') {
      const seconds = Number(argv[++i]);
      if (!(seconds > 0)) usageError('--seconds needs a positive number');
      options.seconds = seconds;
    } else usageError(`unknown argument "${arg}"`);
  }
  return options;
}

/** Child mode: run one scenario in this process and report to the parent. */
async function runChild(name: string, seconds: number, full: boolean): Promise<void> {
  const entry = findScenario(name)!;
  const report: ChildReport = { cpuSeconds: 0, maxRssMiB: 0 };
  try {
    // require, not import(): the build is CommonJS and module paths carry no extension.
    const scenario = require(path.join(__dirname, entry.module)) as { run(opts: { seconds: number; full: boolean }): Promise<unknown> };
    report.result = await scenario.run({ seconds, full });
  } catch (err) {
    const e = err as Error;
    report.error = e.stack ?? String(e);
  }
  const cpu = process.cpuUsage();
  report.cpuSeconds = round((cpu.user + cpu.system) / 1e6, 2);
  report.maxRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  process.send!(report, undefined, {}, () => process.exit(0));
}

let current: ChildProcess | null = null;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // Already gone.
  }
}

function stopGroup(child: ChildProcess): void {
  killGroup(child, 'SIGTERM');
  setTimeout(() => killGroup(child, 'SIGKILL'), KILL_GRACE_MS).unref();
}

function runScenario(entry: ScenarioEntry, seconds: number, full: boolean): Promise<ChildReport> {
  // Generous: the slowest scenario needs about 15 s per second of budget on a loaded machine.
  const timeoutMs = (entry.timeoutSeconds?.(seconds, full) ?? 120 + seconds * 30) * 1000;
  const args = ['--child', entry.name, '--seconds', String(seconds), ...(full ? ['--full'] : [])];
  const child = fork(__filename, args, { detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  current = child;
  return new Promise((resolve) => {
    let report: ChildReport | null = null;
    const timer = setTimeout(() => {
      report = { error: `timed out after ${timeoutMs / 1000} s`, cpuSeconds: 0, maxRssMiB: 0 };
      stopGroup(child);
    }, timeoutMs);
    child.on('message', (message: ChildReport) => {
      if (report === null) report = message;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      current = null;
      // Whatever the scenario left running in its group goes with it.
      killGroup(child, 'SIGKILL');
      resolve(report ?? { error: `scenario process exited (code ${code}, signal ${signal}) without a result`, cpuSeconds: 0, maxRssMiB: 0 });
    });
  });
}

function commandLine(argv: string[]): string {
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
  return `node dist/bench/run.js ${argv.join(' ')}`.trim();
}

async function main(argv: string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options.list) {
    for (const s of SCENARIOS) console.log(`${s.name.padEnd(30)} quick ${s.quickSeconds ?? '—'} s, full ${s.fullSeconds} s (${s.budget})`);
    return 0;
  }
  const chosen = options.only ?? SCENARIOS.filter((s) => options.full || s.quickSeconds !== null);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (current !== null) stopGroup(current);
      console.error(`bench: ${signal}, stopping`);
      setTimeout(() => process.exit(130), KILL_GRACE_MS + 500);
    });
  }

  const record: RunRecord = {
    startedAt: new Date().toISOString(),
    command: commandLine(argv),
    suite: options.full ? 'full' : 'quick',
    machine: machineInfo(),
    loadAverageEnd: [],
    scenarios: [],
  };
  console.log(`bench: ${record.machine.cpuModel}, ${record.machine.cores} cores, Node ${record.machine.node}, load ${record.machine.loadAverage.join(' / ')}`);
  for (const entry of chosen) {
    const seconds = options.seconds ?? (options.full ? entry.fullSeconds : entry.quickSeconds ?? entry.fullSeconds);
    console.log(`bench: ${entry.name} (${seconds} s, ${entry.budget})`);
    const loadAverageStart = loadAverage();
    const busy0 = machineBusySeconds();
    const tree0 = finishedChildrenCpuSeconds();
    const started = performance.now();
    const report = await runScenario(entry, seconds, options.full);
    const wallSeconds = (performance.now() - started) / 1000;
    const busy1 = machineBusySeconds();
    const tree1 = finishedChildrenCpuSeconds();
    const treeCpuSeconds = tree0 === null || tree1 === null ? null : round(tree1 - tree0, 2);
    const machineBusyCores = busy0 === null || busy1 === null ? null : round((busy1 - busy0) / wallSeconds, 2);
    let summary: ScenarioRecord['summary'] = [];
    if (report.error === undefined) {
      try {
        summary = entry.headline(report.result);
      } catch {
        summary = [];
      }
    }
    const scenario: ScenarioRecord = {
      name: entry.name,
      seconds,
      budget: entry.budget,
      status: report.error === undefined ? 'ok' : 'failed',
      error: report.error,
      wallSeconds: round(wallSeconds, 2),
      processCpuSeconds: report.cpuSeconds || null,
      treeCpuSeconds,
      machineBusyCores,
      otherCores: machineBusyCores === null || treeCpuSeconds === null ? null : round(Math.max(0, machineBusyCores - treeCpuSeconds / wallSeconds), 2),
      loadAverageStart,
      maxRssMiB: report.maxRssMiB || null,
      summary,
      result: report.result ?? null,
    };
    record.scenarios.push(scenario);
    if (report.error !== undefined) console.error(`bench: ${entry.name} FAILED: ${report.error}`);
  }
  record.loadAverageEnd = loadAverage();

  const markdown = renderMarkdown(record);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = record.startedAt.replace(/[:.]/g, '-');
  const jsonPath = path.join(RESULTS_DIR, `${stamp}.json`);
  writeFileSync(jsonPath, JSON.stringify(record, null, 2) + '\n');
  writeFileSync(path.join(RESULTS_DIR, 'latest.md'), markdown);
  console.log(`\n${markdown}`);
  console.log(`bench: results in ${path.relative(process.cwd(), jsonPath)} and bench/results/latest.md`);
  return record.scenarios.some((s) => s.status === 'failed') ? 1 : 0;
}

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) {
  const argv = process.argv;
  void runChild(argv[childAt + 1], Number(argv[argv.indexOf('--seconds') + 1]), argv.includes('--full'));
} else {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
