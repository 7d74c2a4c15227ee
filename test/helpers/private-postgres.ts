import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const BIN = '/usr/lib/postgresql/15/bin';

/**
 * A PostgreSQL server of the test's own (initdb in a temp dir, its own port), which a test may
 * stop and start at will without disturbing the shared one. Needs Debian's postgresql binaries
 * and root (it runs them as the postgres user).
 */
export class PrivatePostgres {
  readonly dir: string;
  readonly url: string;

  private constructor(dir: string, readonly port: number) {
    this.dir = dir;
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  static available(): boolean {
    return existsSync(path.join(BIN, 'initdb')) && process.getuid?.() === 0;
  }

  static create(port: number): PrivatePostgres {
    const dir = mkdtempSync(path.join(tmpdir(), 'bookcast-pg-'));
    const { uid, gid } = systemUser('postgres');
    chownSync(dir, uid, gid);
    const pg = new PrivatePostgres(dir, port);
    pg.run('initdb', ['-D', path.join(dir, 'data'), '-A', 'trust', '-U', 'postgres']);
    pg.start();
    return pg;
  }

  start(): void {
    this.run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', path.join(this.dir, 'log'), '-w', 'start']);
  }

  stop(): void {
    this.run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
  }

  destroy(): void {
    try {
      this.stop();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(tool: string, args: string[]): void {
    execFileSync('runuser', ['-u', 'postgres', '--', path.join(BIN, tool), ...args], { stdio: 'ignore' });
  }
}

/** A system user's uid and gid as the system's user database has them (`id`, so NSS is honoured). */
export function systemUser(name: string): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, name], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}
