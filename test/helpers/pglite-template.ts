import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { AUTH_MIGRATIONS } from '../../src/store/auth-schema';
import { openStore } from '../../src/store/open-store';
import { MIGRATIONS } from '../../src/store/schema';
import { PGLITE_DIR } from '../../src/store/store-lock';
import { ACCOUNTING_MIGRATIONS } from '../../src/store/usage-schema';

/**
 * PGlite's first open of a directory runs initdb in WebAssembly, and bookcast's migrations after
 * it: 10–90 s of CPU on a loaded two-core machine, most of what a test server took to start. Test
 * servers start instead from a copy of one store made and migrated once: the server finds its
 * schema in place (every migration recorded) exactly as on a restart.
 *
 * The template is kept where tools keep caches, under node_modules/.cache (it goes with
 * node_modules), named for the PGlite version and a hash of every migration's SQL, so a schema
 * change makes a new template instead of starting servers on a stale one.
 */
const MODULES = path.join(__dirname, '..', '..', '..', 'node_modules');
const VERSION: string = JSON.parse(readFileSync(path.join(MODULES, '@electric-sql', 'pglite', 'package.json'), 'utf8')).version;
const SCHEMA = createHash('sha256').update(JSON.stringify([MIGRATIONS, ACCOUNTING_MIGRATIONS, AUTH_MIGRATIONS])).digest('hex').slice(0, 16);
export const TEMPLATE = path.join(MODULES, '.cache', `bookcast-test-pglite-${VERSION}-${SCHEMA}`);

let made: Promise<void> | null = null;

async function makeTemplate(): Promise<void> {
  if (existsSync(TEMPLATE)) return;
  mkdirSync(path.dirname(TEMPLATE), { recursive: true });
  // Made aside and renamed into place: test files run in parallel, and a half-made template
  // must never be copied. Of two made at once, the first rename wins and the other is dropped.
  const aside = `${TEMPLATE}.${process.pid}`;
  rmSync(aside, { recursive: true, force: true });
  const store = await openStore({ dataDir: aside });
  await store.close();
  try {
    renameSync(path.join(aside, PGLITE_DIR), TEMPLATE);
  } finally {
    rmSync(aside, { recursive: true, force: true });
  }
}

/** Fills `dir` (which must not exist yet) with a migrated, empty store. */
export async function seedPglite(dir: string): Promise<void> {
  made ??= makeTemplate().catch((err: unknown) => {
    // Lost the race to another test process: its template is as good.
    if (!existsSync(TEMPLATE)) throw err;
  });
  await made;
  cpSync(TEMPLATE, dir, { recursive: true });
}

/** Seeds the embedded store under `--data-dir` if it is not there yet, unless the store is elsewhere (`--database-url`). */
export async function seedDataDir(args: string[]): Promise<void> {
  const at = args.indexOf('--data-dir');
  if (at < 0 || args.includes('--database-url')) return;
  const dir = path.join(args[at + 1], PGLITE_DIR);
  if (!existsSync(dir)) await seedPglite(dir);
}
