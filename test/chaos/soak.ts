/**
 * `npm run soak`: a million jobs (`--jobs N` for fewer) through a controller, a scheduler and three
 * workers, one worker killed with -9 every minute and started again; none may be lost. Prints the
 * duration, jobs/s, each process's memory (RSS) at the start and the end, and the job tables' and
 * indexes' sizes at the end (`--json` too). Takes the exclusive lock through the npm script, like
 * the chaos run (it kills processes, not services, but its load would skew everyone's timings).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { readRuns } from './analyse.js';
import { Fleet, type FleetProcess } from './fleet.js';
import { Producer, createRunContext, liveCount, until } from './stream.js';

const { values } = parseArgs({ options: { jobs: { type: 'string' }, 'kill-every-ms': { type: 'string' }, json: { type: 'boolean', default: false }, keep: { type: 'boolean', default: false } } });
const total = Number(values.jobs ?? 1_000_000);
/** The brief's fault rate: a worker death a minute. */
const killEveryMs = Number(values['kill-every-ms'] ?? 60_000);
if (!Number.isInteger(total) || total < 1) throw new Error(`--jobs: must be a positive integer, got ${values.jobs}`);
/** Enqueue in batches of this size, keeping at most BACKLOG live jobs: a steady load, not one huge backlog. */
const BATCH = 1_000;
const BACKLOG = 20_000;
/** After the last enqueue, leases (3 s) and retries settle well inside this. */
const DRAIN_TIMEOUT_MS = 300_000;

const log = (msg: string): void => void process.stderr.write(`[soak] ${msg}\n`);
const rss = (p: FleetProcess): number | null => {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
};

const ctx = createRunContext('soak');
const fleet = new Fleet(ctx.dir, { ...ctx.env, LOG_LEVEL: 'warn' });
process.on('SIGINT', () => {
  fleet.killAll();
  process.exit(130);
});
let code = 0;
try {
  const migrated = await fleet.run(['migrate']);
  if (migrated.code !== 0) throw new Error(`drover migrate failed: ${migrated.output}`);
  const services = [fleet.start('controller', ['controller']), fleet.start('scheduler', ['scheduler'])];
  const workers = [0, 1, 2].map(() => fleet.start('worker', ['worker', 'test/chaos/handlers.ts']));
  const producer = new Producer(ctx.client, 0, () => 0);
  const warm = await until(async () => {
    const [id] = await producer.enqueue('warm-up', 1);
    return until(async () => (await ctx.client.getJob(id!))?.state === 'completed', 10_000);
  }, 120_000, 500);
  if (!warm) throw new Error(`the fleet did not complete a job within 2 minutes; logs in ${ctx.dir}`);
  const memoryAtStart = [...services, ...workers].map((p) => ({ role: p.role, pid: p.pid, rssMb: rss(p) }));
  const started = Date.now();
  let kills = 0;
  const killer = setInterval(() => {
    const victim = workers.splice(Math.floor(Math.random() * workers.length), 1)[0]!;
    kills++;
    fleet.kill9(victim)
      .then(() => workers.push(fleet.start('worker', ['worker', 'test/chaos/handlers.ts'])))
      .catch((err: unknown) => log(`restarting a killed worker failed: ${(err as Error).message}`));
  }, killEveryMs);
  let enqueued = 0;
  let lastLog = Date.now();
  while (enqueued < total) {
    if ((await liveCount(ctx.pool).catch(() => BACKLOG)) >= BACKLOG) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    const n = Math.min(BATCH, total - enqueued);
    enqueued += (await producer.enqueue('soak', n)).length;
    if (Date.now() - lastLog > 10_000) {
      log(`${enqueued} enqueued, ${Math.round((Date.now() - started) / 1000)} s`);
      lastLog = Date.now();
    }
  }
  const drained = await until(async () => (await liveCount(ctx.pool)) === 0, DRAIN_TIMEOUT_MS, 250);
  const durationMs = Date.now() - started;
  clearInterval(killer);
  const memoryAtEnd = [...services, ...workers].map((p) => ({ role: p.role, pid: p.pid, rssMb: rss(p) }));
  const { rows: [done] } = await ctx.pool.query<{ completed: string; failed: string }>(
    "SELECT count(*) FILTER (WHERE state = 'completed') AS completed, count(*) FILTER (WHERE state = 'failed') AS failed FROM finished_jobs WHERE arg->>'phase' = 'soak'",
  );
  const { rows: sizes } = await ctx.pool.query<{ relation: string; total: string; table: string; indexes: string }>(
    `SELECT c.relname AS relation, pg_total_relation_size(c.oid) AS total, pg_relation_size(c.oid) AS table, pg_indexes_size(c.oid) AS indexes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY c.relname`,
  );
  const runs = readRuns(ctx.dir);
  const committed = producer.committed.get('soak')?.length ?? 0;
  const completed = Number(done?.completed ?? 0);
  const failed = Number(done?.failed ?? 0);
  const out = {
    jobs: total,
    committed,
    completed,
    failed,
    lost: committed - completed - failed,
    drained,
    workerKills: kills,
    handlerRuns: runs.length - 1,
    durationMs,
    jobsPerSecond: Math.round((committed / durationMs) * 1000),
    memoryAtStart,
    memoryAtEnd,
    tables: sizes.map((s) => ({ relation: s.relation, totalMb: +(Number(s.total) / 2 ** 20).toFixed(1), tableMb: +(Number(s.table) / 2 ** 20).toFixed(1), indexesMb: +(Number(s.indexes) / 2 ** 20).toFixed(1) })),
  };
  code = out.lost === 0 && drained ? 0 : 1;
  if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`);
  else {
    process.stdout.write(`${committed} jobs in ${(durationMs / 1000).toFixed(1)} s: ${out.jobsPerSecond} jobs/s; completed ${completed}, failed ${failed}, lost ${out.lost}; ${kills} worker kills, ${out.handlerRuns} handler runs\n`);
    process.stdout.write(`memory (RSS MB), start: ${memoryAtStart.map((m) => `${m.role} ${m.rssMb}`).join(', ')}\n`);
    process.stdout.write(`memory (RSS MB), end:   ${memoryAtEnd.map((m) => `${m.role} ${m.rssMb}`).join(', ')}\n`);
    for (const t of out.tables) process.stdout.write(`${t.relation}: ${t.totalMb} MB (table ${t.tableMb}, indexes ${t.indexesMb})\n`);
  }
  await fleet.stopAll(15_000);
} catch (err) {
  log(`failed: ${(err as Error).stack ?? String(err)}`);
  code = 2;
} finally {
  fleet.killAll();
  await ctx.close(values.keep || code !== 0);
}
process.exit(code);
