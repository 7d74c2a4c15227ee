import t from 'tap';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { BookcastError, ERRORS } from '../src/errors';

const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

t.test('every error code in the catalog is documented in the README, and nothing else is', async (t) => {
  const documented = new Set([...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
  for (const code of Object.keys(ERRORS)) t.ok(documented.has(code), `${code} is in the README's error table`);
  for (const code of documented) t.ok(code in ERRORS, `${code} in the README is in the catalog`);
});

t.test('BookcastError carries code, status and a default message', async (t) => {
  const err = new BookcastError('UNKNOWN_SYMBOL');
  t.equal(err.code, 'UNKNOWN_SYMBOL');
  t.equal(err.status, 404);
  t.equal(err.message, ERRORS.UNKNOWN_SYMBOL.message);
  t.equal(new BookcastError('INVALID_PARAMETER', 'depth').message, 'depth');
});
