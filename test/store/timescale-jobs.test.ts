import t from 'tap';
import { connectPostgres, postgresClient } from '../../src/store/postgres-store';
import { SqlStore } from '../../src/store/sql-store';
import { timescaleJobs } from '../../src/store/timescale-jobs';
import { freshDatabase, POSTGRES_ADMIN_URL } from '../helpers/postgres';

/**
 * TimescaleDB cannot be installed here, so its two information views are stood in for by tables
 * of the same names and columns (TimescaleDB reference: timescaledb_information.job_stats and
 * job_errors), holding what a server where every job fails shows. The query then runs on a real
 * PostgreSQL exactly as it would there.
 */
const VIEWS = `
create schema timescaledb_information;
create table timescaledb_information.job_stats (
  hypertable_schema name, hypertable_name name, job_id integer, last_run_started_at timestamptz,
  last_successful_finish timestamptz, last_run_status text, job_status text, last_run_duration interval,
  next_start timestamptz, total_runs bigint, total_successes bigint, total_failures bigint);
create table timescaledb_information.job_errors (
  job_id integer, proc_schema name, proc_name name, pid integer, start_time timestamptz,
  finish_time timestamptz, sqlerrcode text, err_message text);
insert into timescaledb_information.job_stats values
  ('public', 'trades', 1000, now(), null, 'Failed', 'Scheduled', '1 s', now(), 3, 0, 3),
  ('public', 'candles', 1001, now(), timestamptz '2026-03-01 12:00:00.123456+00', 'Success', 'Scheduled', '1 s', now(), 2, 1, 1),
  ('public', 'order_events', 1002, now(), timestamptz '2026-03-01 12:00:00+00', 'Failed', 'Scheduled', '1 s', now(), 5, 4, 1);
insert into timescaledb_information.job_errors values
  (1000, '_timescaledb_functions', 'policy_compression', 1, now() - interval '2 hours', now() - interval '2 hours', '42501', 'older error'),
  (1000, '_timescaledb_functions', 'policy_compression', 1, now() - interval '1 hour', now() - interval '1 hour', '42501', 'permission denied for schema _timescaledb_internal'),
  (1001, '_timescaledb_functions', 'policy_compression', 1, now(), now(), 'XX000', 'an old failure of a job that succeeds now');
`;

t.test('Timescale jobs: failing ones listed with their latest error; none where the extension is absent', async (t) => {
  const database = await freshDatabase('jobs');
  if (database === null) {
    t.plan(0, `PostgreSQL unreachable at ${POSTGRES_ADMIN_URL} (set BOOKCAST_TEST_POSTGRES; with CI=true this fails)`);
    return;
  }
  t.teardown(() => database.drop());
  const raw = postgresClient(connectPostgres(database.url, { max: 1 }));
  t.teardown(() => raw.close());

  t.equal(await timescaleJobs(raw), null, 'plain PostgreSQL: nothing to report');
  await raw.exec(VIEWS);
  t.same(await timescaleJobs(raw), {
    jobs: 3,
    failing: [
      { job_id: 1000, hypertable: 'trades', total_runs: 3, total_failures: 3, last_successful_finish: null, last_error: 'permission denied for schema _timescaledb_internal' },
      { job_id: 1002, hypertable: 'order_events', total_runs: 5, total_failures: 1, last_successful_finish: '2026-03-01T12:00:00.000000Z', last_error: null },
    ],
  });
  t.equal(await new SqlStore(raw, 'timescale', 'timescale').backgroundJobs().then((j) => j?.failing.length), 2, 'the store reports them on the timescale flavor');
  t.equal(await new SqlStore(raw, 'postgres', 'partitioned').backgroundJobs(), null, 'and nothing on the partitioned one');

  await raw.exec('drop table timescaledb_information.job_errors');
  t.same((await timescaleJobs(raw))?.failing.map((j) => [j.job_id, j.last_error]), [[1000, null], [1002, null]], 'before 2.9 (no job_errors): failures without their text');
});
