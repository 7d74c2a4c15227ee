import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openStore } from '../../src/store/open-store';
import type { RateBucketRecord, Store } from '../../src/store/store';
import { freshDatabase } from '../helpers/postgres';
import { seedDataDir } from '../helpers/pglite-template';

const HOUR_US = 3_600_000_000;
const T0 = Date.UTC(2026, 0, 2, 3, 0) * 1000;
const minuteAt = (m: number): number => T0 + m * 60_000_000;

function counts(subject: string, clientId: string | null, m: number, allowed: number, refused: number, perMinute = 100): RateBucketRecord {
  return { subject, clientId, bucket: 'rest', minute: minuteAt(m), allowed, refused, perMinute, perHour: 1000, perDay: 10_000 };
}

async function checks(t: any, store: Store): Promise<void> {
  await store.writeUsage([], [counts('cl_a', 'cl_a', 0, 3, 1), counts('cl_a', 'cl_a', 59, 2, 0), counts('ip:203.0.113.7', null, 0, 1, 0)]);
  // A later batch: the same minute again (counts add up), the next hour, a changed budget.
  await store.writeUsage([], [counts('cl_a', 'cl_a', 59, 1, 2, 7), counts('cl_a', 'cl_a', 60, 4, 0, 7)]);
  const rows = await store.rateBuckets('cl_a', T0, T0 + 2 * HOUR_US);
  t.same(rows, [
    { bucket: 'rest', window: 'hour', start: T0, limit: 1000, allowed: 6, refused: 3 },
    { bucket: 'rest', window: 'hour', start: T0 + HOUR_US, limit: 1000, allowed: 4, refused: 0 },
    { bucket: 'rest', window: 'day', start: Date.UTC(2026, 0, 2) * 1000, limit: 10_000, allowed: 10, refused: 3 },
  ], 'hours and the day sum the minutes of every batch');
  t.same((await store.sql.rows(`select "limit", allowed, refused from rate_limit_buckets where subject = 'cl_a' and "window" = 'minute' order by window_start`, [])).map((r) => r.map(Number)), [
    [100, 3, 1],
    [7, 3, 2],
    [7, 4, 0],
  ], 'minute rows: counts added, the newest budget kept');
  t.same((await store.rateBuckets('ip:203.0.113.7', T0, T0 + 1)).map((r) => [r.window, r.allowed, r.refused]), [['hour', 1, 0], ['day', 1, 0]], 'each subject apart');
  t.same(await store.rateBuckets('cl_a', T0 + 3 * HOUR_US, T0 + 4 * HOUR_US), [{ bucket: 'rest', window: 'day', start: Date.UTC(2026, 0, 2) * 1000, limit: 10_000, allowed: 10, refused: 3 }], 'a range picks the windows that overlap it');
  const [[clientId]] = await store.sql.rows(`select client_id from rate_limit_buckets where subject = 'cl_a' limit 1`, []);
  t.equal(clientId, 'cl_a', 'the client id is kept beside the subject');
}

t.test('PGlite: the limiter\'s minute counts add up into rate_limit_buckets\' minute, hour and day windows', async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bookcast-rate-buckets-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  await seedDataDir(['--data-dir', dataDir]);
  const store = await openStore({ dataDir });
  t.teardown(() => store.close());
  await checks(t, store);
});

t.test('PostgreSQL: the same', async (t) => {
  const fresh = await freshDatabase('rate_buckets');
  if (fresh === null) {
    t.comment('PostgreSQL is not running: skipped (CI=true makes this a failure)');
    return;
  }
  const store = await openStore({ databaseUrl: fresh.url, dataDir: '/nonexistent' });
  t.teardown(async () => {
    await store.close();
    await fresh.drop();
  });
  await checks(t, store);
});
