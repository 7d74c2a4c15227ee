import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { BookcastError } from '../errors';
import { readQuery, route } from '../gateway/http';

/**
 * The page's files live beside this module's source (src/dashboard/), not in dist/: they are
 * plain ES modules the browser runs as written, so there is nothing to build. From
 * dist/src/dashboard/ that is three folders up, then src/dashboard.
 */
const PAGE_DIR = path.resolve(__dirname, '..', '..', '..', 'src', 'dashboard');

/** lightweight-charts' standalone ES build; its package exports only its bundler entry, so found by its package.json. */
function chartLibraryPath(): string {
  return path.join(path.dirname(require.resolve('lightweight-charts/package.json')), 'dist', 'lightweight-charts.standalone.production.mjs');
}

interface StaticFile {
  contentType: string;
  body: Uint8Array<ArrayBuffer>;
}

function load(file: string, contentType: string): StaticFile {
  return { contentType, body: new Uint8Array(readFileSync(file)) };
}

/** Serves `/dashboard` and its files (read once, at start-up); any other file name is 404 NOT_FOUND. */
export function registerDashboard(app: TemplatedApp): void {
  const js = 'text/javascript; charset=utf-8';
  const page = load(path.join(PAGE_DIR, 'index.html'), 'text/html; charset=utf-8');
  const files = new Map<string, StaticFile>([
    ['app.js', load(path.join(PAGE_DIR, 'app.js'), js)],
    ['book.js', load(path.join(PAGE_DIR, 'book.js'), js)],
    ['panels.js', load(path.join(PAGE_DIR, 'panels.js'), js)],
    ['style.css', load(path.join(PAGE_DIR, 'style.css'), 'text/css; charset=utf-8')],
    ['lightweight-charts.mjs', load(chartLibraryPath(), js)],
  ]);
  const send = (res: HttpResponse, file: StaticFile) =>
    res.cork(() => {
      res.writeStatus('200 OK').writeHeader('content-type', file.contentType).writeHeader('cache-control', 'no-cache').end(file.body);
    });
  route(app, 'get', '/dashboard', (res, req) => {
    readQuery(req, ['symbol']);
    send(res, page);
  });
  route(app, 'get', '/dashboard/:file', (res, req) => {
    const name = req.getParameter(0) ?? '';
    readQuery(req, []);
    const file = files.get(name);
    if (file === undefined) throw new BookcastError('NOT_FOUND', `no dashboard file "${name}"`);
    send(res, file);
  });
}
