import { PGlite } from '@electric-sql/pglite';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { AUTH_PGLITE_DIR } from '../../src/auth/auth-database';

/**
 * PGlite's first open of a directory runs initdb in WebAssembly: 10–90 s of CPU on a loaded
 * two-core machine, most of what a test server took to start. Test servers start instead from a
 * copy of one freshly initialised, empty PGlite directory. Nothing of bookcast is in it: the
 * server creates its schema on it exactly as on a new store.
 *
 * The template is kept where tools keep caches, under node_modules/.cache (it goes with
 * node_modules), named for the PGlite version that made it.
 */
const MODULES = path.join(__dirname, '..', '..', '..', 'node_modules');
const VERSION: string = JSON.parse(readFileSync(path.join(MODULES, '@electric-sql', 'pglite', 'package.json'), 'utf8')).version;
const TEMPLATE = path.join(MODULES, '.cache', `bookcast-test-pglite-${VERSION}`);

let made: Promise<void> | null = null;

async function makeTemplate(): Promise<void> {
  if (existsSync(TEMPLATE)) return;
  mkdirSync(path.dirname(TEMPLATE), { recursive: true });
  // Made aside and renamed into place: test files run in parallel, and a half-made template
  // must never be copied. Of two made at once, the first rename wins and the other is dropped.
  const aside = `${TEMPLATE}.${process.pid}`;
  rmSync(aside, { recursive: true, force: true });
  const db = await PGlite.create(aside);
  await db.query('SELECT 1');
  await db.close();
  try {
    renameSync(aside, TEMPLATE);
  } catch {
    rmSync(aside, { recursive: true, force: true });
  }
}

/** Fills `dir` (which must not exist yet) with an initialised, empty PGlite database. */
export async function seedPglite(dir: string): Promise<void> {
  made ??= makeTemplate();
  await made;
  cpSync(TEMPLATE, dir, { recursive: true });
}

/** The embedded stores a server started with `args` opens: market data, and with access control on, its own. */
function serverStores(args: string[]): string[] {
  // Access control is on unless named off (its default is optional).
  const auth = args.lastIndexOf('--auth');
  const authOn = auth < 0 || args[auth + 1] !== 'off';
  return authOn ? ['pglite', AUTH_PGLITE_DIR] : ['pglite'];
}

/**
 * Seeds the embedded stores under `--data-dir` that are not there yet (by default those a server
 * started with `args` opens), unless the stores are elsewhere (`--database-url`).
 */
export async function seedDataDir(args: string[], stores = serverStores(args)): Promise<void> {
  const at = args.indexOf('--data-dir');
  if (at < 0 || args.includes('--database-url')) return;
  for (const store of stores) {
    const dir = path.join(args[at + 1], store);
    if (!existsSync(dir)) await seedPglite(dir);
  }
}
