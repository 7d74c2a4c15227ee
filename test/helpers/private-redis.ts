import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { waitFor } from './test-server';

/** A free TCP port on loopback (bound and released; another process could take it in between, rarely). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a TCP connect to 127.0.0.1:port succeeds. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A redis-server of the test's own on a port of its own, with nothing persisted, which a test
 * may kill and start again at will: the shared Redis on 6379 is never touched. Needs Debian's
 * redis-server on the PATH; with CI=true its absence fails the test instead of skipping it.
 */
export class PrivateRedis {
  private child: ChildProcess | null = null;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static available(): boolean {
    return spawnSync('redis-server', ['--version']).status === 0;
  }

  static async create(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    return redis;
  }

  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor(`redis-server on port ${this.port}`, () => accepts(this.port), 30_000);
  }

  /** Kills it (SIGKILL: a crash, nothing flushed) and waits until the port refuses connections. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = null;
    await waitFor(`port ${this.port} to refuse`, async () => !(await accepts(this.port)), 30_000);
  }
}
