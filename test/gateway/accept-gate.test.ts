import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkDelayMs, closingThreshold, countOpenDescriptors } from '../../src/gateway/accept-gate';
import { descriptorBudget } from '../../src/util/descriptor-budget';
import { startServerProcess, stopServerProcess } from '../helpers/server-process';
import { waitFor } from '../helpers/test-server';

/** Room for the server's own descriptors (~100), half the reserve (64) and a full accept queue (513). */
const FILE_LIMIT = 1000;
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

/** Connections the kernel holds completed for the listener on `port`, waiting for accept() (/proc/net/tcp's rx_queue of a LISTEN socket). */
function acceptQueued(port: number): number {
  let queued = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 5 || f[3] !== '0A' || Number.parseInt(f[1].split(':').pop()!, 16) !== port) continue;
      queued += Number.parseInt(f[4].split(':')[1], 16);
    }
  }
  return queued;
}

t.test('a full accept queue taken in one go, after the server did not run for a moment, still leaves half the reserve', { skip: countOpenDescriptors() === 0 ? 'needs Linux 6.2+ (/proc/self/fd size)' : false }, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-test-'));
  const server = await startServerProcess(['--rate', '200', '--data-dir', dataDir], { fileLimit: FILE_LIMIT });
  const held: net.Socket[] = [];
  t.teardown(async () => {
    held.forEach((s) => s.destroy());
    process.kill(server.child.pid!, 'SIGCONT');
    await stopServerProcess(server);
    rmSync(dataDir, { recursive: true, force: true });
  });
  const port = Number(new URL(server.http).port);
  const descriptors = () => statSync(`/proc/${server.child.pid}/fd`).size;
  const budget = descriptorBudget(FILE_LIMIT);
  const hold = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const socket = await bareConnection(port);
      if (socket === null) throw new Error('a connection below the threshold was refused');
      socket.on('error', () => undefined);
      held.push(socket);
    }
  };

  // Just below where the gate stops listening, taken slowly enough for it to see every step.
  const below = closingThreshold(budget) - 40;
  while (descriptors() < below) {
    await hold(Math.min(20, below - descriptors()));
    await waitFor('the server to accept them', () => acceptQueued(port) === 0);
  }
  const before = descriptors();
  // The machine does not run the server for a moment; the kernel fills its accept queue meanwhile.
  process.kill(server.child.pid!, 'SIGSTOP');
  await hold(budget.acceptQueue);
  t.equal(acceptQueued(port), budget.acceptQueue, `the kernel queued ${budget.acceptQueue} connections for accept()`);
  process.kill(server.child.pid!, 'SIGCONT');
  await waitFor('the server to take the queue (or run out of descriptors trying)', () => acceptQueued(port) === 0 || descriptors() >= FILE_LIMIT);
  const after = descriptors();
  t.ok(after <= FILE_LIMIT - budget.reserve / 2, `${before} descriptors before the burst, ${after} after: half the reserve (${budget.reserve / 2}) of ${FILE_LIMIT} still free`);
  t.equal(server.child.exitCode, null, 'the server runs on');
});

t.test('the count waits longer only where ten times the rate a 20 ms count tolerates cannot fill the headroom', async (t) => {
  const budget = descriptorBudget(20_000, 513);
  t.equal(closingThreshold(budget), 19_087, 'closes half the reserve of 800 and a queue of 513 below 20,000');
  const idle = checkDelayMs(60, budget);
  t.ok(idle > 90 && idle < 100, `an idle server at 20,000 descriptors counts every ${idle.toFixed(1)} ms (about ten a second)`);
  // At the rate 20 ms counts tolerate (half the reserve per 20 ms), ten waits like this one fill a tenth of the headroom each.
  t.ok(((budget.reserve / 2 / 20) * 10 * idle) <= 19_087 - 60, 'the headroom holds ten times that rate for the whole wait');
  t.equal(checkDelayMs(19_000, budget), 20, 'near the threshold: every 20 ms');
  t.equal(checkDelayMs(19_200, budget), 20, 'past it: every 20 ms');
  t.equal(checkDelayMs(30, descriptorBudget(FILE_LIMIT, 513)), 20, `at this test's limit (${FILE_LIMIT}): every 20 ms, as the flood test runs it`);
  t.equal(checkDelayMs(0, descriptorBudget(1_000_000)), 1000, 'never more than a second');
});
