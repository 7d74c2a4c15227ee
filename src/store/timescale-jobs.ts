import { SqlClient } from './sql-client';

/**
 * TimescaleDB background jobs (compression policies) as the health endpoint shows them. A job
 * that fails does not stop anything visible: writes go on, only compression silently stops and
 * the disk fills. So every job whose last run failed is listed, with its latest error.
 *
 * The extension's own views are the source (timescaledb_information.job_stats since 1.2,
 * job_errors since 2.9; their columns as the TimescaleDB reference documents them). On plain
 * PostgreSQL and PGlite neither view exists and the answer is null: nothing to report.
 */
export interface FailingJob {
  job_id: number;
  /** The hypertable the job works on (null for jobs that have none). */
  hypertable: string | null;
  total_runs: number;
  total_failures: number;
  /** ISO-8601; null when it never succeeded. */
  last_successful_finish: string | null;
  /** The latest error job_errors holds for the job (null before TimescaleDB 2.9, or none kept). */
  last_error: string | null;
}

export interface TimescaleJobs {
  /** Jobs the extension runs in this database. */
  jobs: number;
  /** Jobs whose last run failed. */
  failing: FailingJob[];
}

const LATEST_ERROR = `(select e.err_message from timescaledb_information.job_errors e
  where e.job_id = s.job_id order by e.finish_time desc nulls last limit 1)`;

/** The state of the database's TimescaleDB jobs; null where the extension is absent. */
export async function timescaleJobs(client: SqlClient): Promise<TimescaleJobs | null> {
  const [[stats, errors]] = await client.rows(
    `select to_regclass('timescaledb_information.job_stats') is not null,
            to_regclass('timescaledb_information.job_errors') is not null`,
    [],
  );
  if (stats !== true) return null;
  const rows = await client.rows(
    `select s.job_id, s.hypertable_name::text, s.total_runs, s.total_failures,
            to_char(s.last_successful_finish at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            ${errors === true ? LATEST_ERROR : 'null::text'},
            s.last_run_status = 'Failed'
     from timescaledb_information.job_stats s
     order by s.job_id`,
    [],
  );
  const failing: FailingJob[] = [];
  for (const [jobId, hypertable, runs, failures, lastSuccess, lastError, failed] of rows) {
    if (failed !== true) continue;
    failing.push({
      job_id: Number(jobId),
      hypertable: (hypertable as string | null) ?? null,
      total_runs: Number(runs),
      total_failures: Number(failures),
      last_successful_finish: (lastSuccess as string | null) ?? null,
      last_error: (lastError as string | null) ?? null,
    });
  }
  return { jobs: rows.length, failing };
}
