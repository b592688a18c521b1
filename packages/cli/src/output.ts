/**
 * Output for people and for machines: a plain table or key/value listing by default, JSON with
 * --json. Dates print as ISO 8601 in both.
 */
import { JOB_STATES, formatTable, type Job, type JobCount, type JobWithFailures, type Json } from '@drover/core';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

const iso = (d: Date | null): string => (d ? d.toISOString() : '-');

export function jobsTable(jobs: Job[]): string {
  if (jobs.length === 0) return 'no jobs';
  return formatTable(
    ['id', 'funcname', 'state', 'attempts', 'failures', 'run_after', 'created_at'],
    jobs.map((j) => [j.id, j.funcname, j.state, String(j.attempts), String(j.failures), j.runAfter ? iso(j.runAfter) : 'never', iso(j.createdAt)]),
  );
}

export function jobDetails(job: JobWithFailures & { steps?: readonly { step: number; at: Date; kind: string; detail: Json }[] }): string {
  const fields: [string, string][] = [
    ['id', job.id],
    ['funcname', job.funcname],
    ['state', job.state],
    ['arg', JSON.stringify(job.arg)],
    ['result', JSON.stringify(job.result)],
    ['uniqkey', job.uniqkey ?? '-'],
    ['priority', String(job.priority)],
    ['coalesce', job.coalesce ?? '-'],
    ['attempts', String(job.attempts)],
    ['failures', `${job.failures} of ${job.maxRetries} retries`],
    ['run_after', job.runAfter ? iso(job.runAfter) : 'never'],
    ['grabbed_until', iso(job.grabbedUntil)],
    ['created_at', iso(job.createdAt)],
    ['finished_at', iso(job.finishedAt)],
  ];
  const width = Math.max(...fields.map(([k]) => k.length));
  const lines = fields.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  if (job.failureLog.length > 0) {
    lines.push('', 'failure log:');
    for (const f of job.failureLog) lines.push(`  attempt ${f.attempt} at ${iso(f.failedAt)}: ${f.error.split('\n')[0]}`);
  }
  // A workflow job's step log; other jobs have none, and their view is unchanged.
  if (job.steps && job.steps.length > 0) {
    lines.push('', 'workflow steps:');
    for (const s of job.steps) lines.push(`  ${String(s.step).padStart(3)}  ${iso(s.at)}  ${s.kind}  ${JSON.stringify(s.detail)}`);
  }
  return lines.join('\n');
}

/** Counts as one row per function and a column per state, with totals. */
export function statsTable(counts: JobCount[]): string {
  if (counts.length === 0) return 'no jobs';
  const states = JOB_STATES;
  const byFunc = new Map<string, Map<string, number>>();
  for (const c of counts) {
    if (!byFunc.has(c.funcname)) byFunc.set(c.funcname, new Map());
    byFunc.get(c.funcname)!.set(c.state, c.count);
  }
  const rows = [...byFunc].map(([f, m]) => [f, ...states.map((s) => String(m.get(s) ?? 0))]);
  const totals = ['total', ...states.map((s) => String(counts.filter((c) => c.state === s).reduce((n, c) => n + c.count, 0)))];
  return formatTable(['funcname', ...states], [...rows, totals]);
}
