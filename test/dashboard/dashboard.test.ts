import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { startTestServer, waitFor } from '../helpers/test-server';

const CHROMIUM = '/usr/bin/chromium';
/** Kept after the run (ignored by git): the page as the test saw it. */
const ARTIFACTS = path.resolve(__dirname, '../../../.tap/artifacts');

const missing = !existsSync(CHROMIUM);
// CI installs Debian's chromium (.ci/run); there a missing browser is a failure, never a skip.
if (missing && process.env.CI === 'true') t.fail(`${CHROMIUM} is missing`);

const skip = missing && process.env.CI !== 'true' ? `${CHROMIUM} is missing (apt-get install chromium)` : false;
t.test('the dashboard in a real browser: loads, its ladder updates, and its best bid and ask equal REST at the same sequence', { skip }, async (t) => {
  const srv = await startTestServer(['--rate', '2000', '--workers', '2']);
  t.teardown(() => srv.server.stop());
  const profile = mkdtempSync(path.join(tmpdir(), 'bookcast-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.teardown(async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  });
  // Playwright's own 30 s default is shorter than a loaded machine needs; the waits below have theirs.
  browser.setDefaultTimeout(180_000);
  const page = browser.pages()[0] ?? (await browser.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));

  const answer = await page.goto(`${srv.http}/dashboard?symbol=ETH-USD`);
  t.equal(answer?.status(), 200, '/dashboard answers');
  t.equal(await page.title(), 'bookcast dashboard');
  const sequenceOf = async () => Number(await page.getAttribute('[data-testid=sequence]', 'data-sequence'));
  await waitFor('the ladder to show a verified book', async () => (await sequenceOf()) > 0);
  const first = await sequenceOf();
  await waitFor('the ladder to update', async () => (await sequenceOf()) > first);
  t.equal(await page.inputValue('[data-testid=symbol]'), 'ETH/USD', 'the symbol picker shows the symbol asked for');
  t.ok((await page.locator('#ladder tbody tr').count()) > 0, 'the ladder has rows');

  // What the DOM shows is the page's book at the sequence it shows.
  // One evaluate: the page's script cannot run between these reads. (No DOM types here: tests compile for Node.)
  const shown = await page.evaluate(() => {
    const g = globalThis as any;
    const sequence = Number(g.document.getElementById('sequence').dataset.sequence);
    return { bid: g.document.getElementById('best-bid').textContent, ask: g.document.getElementById('best-ask').textContent, state: g.bookcastDashboard.stateAt(sequence) };
  });
  t.same({ bid: shown.bid, ask: shown.ask }, { bid: shown.state.bid, ask: shown.state.ask }, 'the DOM shows the book at its sequence');

  // REST at sequence S; once the page is past S, its book at S must be REST's.
  let compared = false;
  for (let attempt = 0; attempt < 5 && !compared; attempt++) {
    const rest = await srv.get('/api/v1/market/ETH-USD/orderbook?depth=1');
    const seq: number = rest.body.sequence;
    await waitFor(`the page past sequence ${seq}`, async () => (await sequenceOf()) > seq);
    const at = await page.evaluate((s) => (globalThis as any).bookcastDashboard.stateAt(s), seq);
    if (at === undefined) continue;
    t.same({ bid: at.bid, ask: at.ask }, { bid: rest.body.bids[0]?.[0] ?? null, ask: rest.body.asks[0]?.[0] ?? null }, `best bid and ask at sequence ${seq} equal REST`);
    compared = true;
  }
  t.ok(compared, 'a REST snapshot compared with the page');
  t.equal(await page.getAttribute('[data-testid=verified]', 'data-resyncs'), '0', 'no gap or checksum mismatch on the page');
  await waitFor('the trades tape', async () => (await page.locator('#trades tbody tr').count()) > 0);
  await waitFor('the health panel', async () => ((await page.textContent('[data-testid=health]')) ?? '').includes('status ok'));
  // Without /metrics or /api/v1/alerts in this build the panels say so; they switch on when the endpoints answer.
  await waitFor('the metrics panel to settle', async () => (await page.getAttribute('[data-testid=metrics]', 'data-state')) !== 'waiting');
  const metricsServed = (await fetch(`${srv.http}/metrics`)).status === 200;
  t.equal(await page.getAttribute('[data-testid=metrics]', 'data-state'), metricsServed ? 'live' : 'absent', 'the metrics panel follows /metrics');

  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = path.join(ARTIFACTS, 'dashboard.png');
  await page.screenshot({ path: shot, fullPage: true });
  t.ok(existsSync(shot), `screenshot kept at ${shot}`);
  t.same(pageErrors, [], 'no script error on the page');
});
