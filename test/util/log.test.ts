import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { seedDataDir } from '../helpers/pglite-template';
import { waitFor } from '../helpers/test-server';
import { closeOf, openSocket } from '../helpers/ws-connect';

const MAIN = path.resolve(__dirname, '../../src/main.js');
const TOKEN = 'log-test-publisher-secret-0123456789';

/** Every stderr line is one JSON object with pino's fields. */
function logLines(stderr: string): Record<string, unknown>[] {
  return stderr.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

t.test('npm start: a readable banner on stdout (with /metrics), JSON logs on stderr with connection ids, no secret', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-log-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  // A --max-connections past what the open-file limit leaves is warned about once, at start.
  const args = ['--port', '0', '--data-dir', dataDir, '--source', 'ingest', '--publisher-token', TOKEN, '--log-level', 'debug', '--max-connections', '10000000'];
  await seedDataDir(args); // the stores from the initialised template, as for every test server: no initdb
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  await waitFor('the banner', () => /try: curl/.test(stdout) || child.exitCode !== null, 180000);
  t.match(stdout, /^bookcast is running: /, 'the banner opens stdout');
  const metrics = /Metrics \(Prometheus\):\s+(http:\/\/\S+\/metrics)/.exec(stdout);
  t.ok(metrics, 'the banner names /metrics');
  t.notOk(stdout.split('\n').some((l) => l.startsWith('{')), 'no JSON on stdout');

  const http = /REST:\s+(http:\/\/[^/]+)/.exec(stdout)![1];
  t.equal((await fetch(metrics![1])).status, 200, 'the /metrics the banner names answers');
  const ws = await openSocket(`${http.replace('http', 'ws')}/ws`);
  await waitFor('the open logged', () => stderr.includes('connection opened'));
  const closed = closeOf(ws);
  ws.close();
  await closed;
  await waitFor('the close logged', () => stderr.includes('connection closed'));
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'an orderly stop');

  const lines = logLines(stderr);
  for (const line of lines) t.ok(typeof line.level === 'number' && typeof line.time === 'number' && typeof line.msg === 'string' && line.name === 'bookcast', `a pino line: ${line.msg}`);
  const opened = lines.find((l) => l.msg === 'connection opened')!;
  const closedLine = lines.find((l) => l.msg === 'connection closed')!;
  t.equal(typeof opened.conn, 'number', 'the connection id');
  t.equal(closedLine.conn, opened.conn, 'the close names the same connection');
  t.equal(closedLine.level, 20, 'at debug level');
  t.ok(lines.some((l) => l.msg === 'SIGTERM, stopping' && l.level === 30), 'the stop is logged at info');
  const unreachable = lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('--max-connections 10000000 is more than the open-file limit'));
  t.equal(unreachable.length, 1, 'one warning for a --max-connections the open-file limit cannot hold');
  t.match(unreachable[0], { level: 40, max_connections: 10000000 });
  t.notOk((stdout + stderr).includes(TOKEN), 'the publisher token appears nowhere');
});

t.test('a start-up refusal is one JSON line with its code; --log-level is validated', async (t) => {
  const run = spawnSync(process.execPath, [MAIN, '--log-level', 'loud'], { encoding: 'utf8' });
  t.equal(run.status, 1);
  t.equal(run.stdout, '');
  const [line] = logLines(run.stderr);
  t.equal(line.code, 'CONFIG_INVALID');
  t.equal(line.level, 60, 'fatal');
  t.match(line.msg, /^CONFIG_INVALID: log-level must be one of trace, debug, info, warn, error, fatal, silent/);
});
