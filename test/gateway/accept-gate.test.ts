import t from 'tap';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkDelayMs, countOpenDescriptors } from '../../src/gateway/accept-gate';
import { descriptorBudget } from '../../src/util/descriptor-budget';
import { startServerProcess, stopServerProcess } from '../helpers/server-process';
import { waitFor } from '../helpers/test-server';

const FILE_LIMIT = 400;
/** Bare TCP connections tried, a bounded flood: twice what the server may hold. */
const FLOOD = 2 * FILE_LIMIT;
const CONCURRENCY = 50;

/** Connects without ever sending a request; resolves with the socket, or null when refused. */
function bareConnection(port: number): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(null));
  });
}

t.test('a flood of bare TCP connections never takes the last descriptors: the server stops listening, then listens again', { skip: countOpenDescriptors() === 0 ? 'needs Linux 6.2+ (/proc/self/fd size)' : false }, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-test-'));
  const server = await startServerProcess(['--rate', '200', '--data-dir', dataDir], { fileLimit: FILE_LIMIT });
  t.teardown(async () => {
    await stopServerProcess(server);
    rmSync(dataDir, { recursive: true, force: true });
  });
  const port = Number(new URL(server.http).port);
  const descriptors = () => statSync(`/proc/${server.child.pid}/fd`).size;
  const held: net.Socket[] = [];
  t.teardown(() => held.forEach((s) => s.destroy()));

  let tried = 0;
  let refused = 0;
  let most = 0;
  const worker = async () => {
    while (tried < FLOOD) {
      tried++;
      const socket = await bareConnection(port);
      if (socket === null) refused++;
      else {
        socket.on('error', () => undefined);
        held.push(socket);
      }
      most = Math.max(most, descriptors());
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  t.ok(refused > 0, `the server stopped accepting: ${refused} of ${FLOOD} connections refused`);
  t.ok(most < FILE_LIMIT, `the server held at most ${most} descriptors of ${FILE_LIMIT}`);
  t.equal(server.child.exitCode, null, 'the server runs on');

  for (const s of held.splice(0)) s.destroy();
  let health: any;
  await waitFor('the server to listen again', async () => {
    try {
      health = await (await fetch(`${server.http}/api/v1/health`)).json();
      return true;
    } catch {
      return false;
    }
  });
  t.ok(health.connection_limits.accept_pauses >= 1, 'health counts the pause');
});

t.test('the count waits longer only where ten times the rate a 20 ms count tolerates cannot fill the headroom', async (t) => {
  const budget = descriptorBudget(20_000); // reserve 800: closes at 19,600
  const idle = checkDelayMs(60, budget);
  t.ok(idle > 90 && idle < 100, `an idle server at 20,000 descriptors counts every ${idle.toFixed(1)} ms (about ten a second)`);
  // At the rate 20 ms counts tolerate (half the reserve per 20 ms), ten waits like this one fill a tenth of the headroom each.
  t.ok(((budget.reserve / 2 / 20) * 10 * idle) <= 19_600 - 60, 'the headroom holds ten times that rate for the whole wait');
  t.equal(checkDelayMs(19_000, budget), 20, 'near the threshold: every 20 ms');
  t.equal(checkDelayMs(19_700, budget), 20, 'past it: every 20 ms');
  t.equal(checkDelayMs(30, descriptorBudget(FILE_LIMIT)), 20, `at this test's limit (${FILE_LIMIT}): every 20 ms, as the flood test runs it`);
  t.equal(checkDelayMs(0, descriptorBudget(1_000_000)), 1000, 'never more than a second');
});
