/**
 * `npm run bench` (and `drover bench`): every workload on every system, against the same servers,
 * each run several times with the systems interleaved so that machine noise spreads evenly. Prints
 * a table (progress on stderr meanwhile), or JSON with --json; --out also writes the JSON to a file.
 * The api-* workloads run only on the systems that have a JSON-RPC API (Drover), drain-limited
 * only on those whose rate limits are kept in Redis (Drover).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import type { BenchServers, BenchSystem } from './system.js';
import { buildRows, renderTable, type Results } from './report.js';
import { schemaFor } from '@drover/store';
import { API_WORKLOADS, apiCall, apiDrain } from './api-workloads.js';
import { FLOW_WORKLOADS, drainLimited } from './flow-workloads.js';
import { drain, enqueue, latency, steady, type Metrics } from './workloads.js';

/** Each system's adapter, loaded only when the run includes it (each pulls in its own client library). */
const ADAPTERS: Record<string, () => Promise<{ system: BenchSystem }>> = {
  drover: () => import('./systems/drover.js'),
  'pg-boss': () => import('./systems/pg-boss.js'),
  'graphile-worker': () => import('./systems/graphile-worker.js'),
  bullmq: () => import('./systems/bullmq.js'),
};
export const ALL_SYSTEMS = Object.keys(ADAPTERS);
export const ALL_WORKLOADS = ['drain', 'enqueue', 'latency', 'steady', 'scale', ...API_WORKLOADS, ...FLOW_WORKLOADS];

interface Options {
  runs: number;
  systems: string[];
  workloads: string[];
  json: boolean;
  out?: string;
  quick: boolean;
  /** Drover's namespace for the run (default bench_drover). */
  namespace?: string;
}

function servers(env: NodeJS.ProcessEnv, namespace: string | undefined): BenchServers {
  return {
    databaseUrl: env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    amqpUrl: env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672',
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
    ...(namespace ? { namespace } : {}),
  };
}

/** One step of the plan: a workload (scale split into its process counts), on one system, one run. */
interface Step {
  workload: string;
  system: string;
  run: number;
}

/**
 * The plan, leaving out the api-* workloads on systems without a JSON-RPC API, and drain-limited on
 * systems without a rate limit kept in Redis (they have nothing to measure).
 */
function steps(options: Options, systems: Map<string, BenchSystem>): Step[] {
  const workloads = options.workloads.flatMap((w) => (w === 'scale' ? ['scale1', 'scale2', 'scale4'] : [w]));
  const plan: Step[] = [];
  for (const workload of workloads) {
    const needsApi = API_WORKLOADS.includes(workload);
    const needsLimits = FLOW_WORKLOADS.includes(workload);
    const on = options.systems.filter((name) => (!needsApi || systems.get(name)?.api) && (!needsLimits || systems.get(name)?.rateLimits));
    if (on.length === 0) throw new Error(`--workloads: ${workload} needs a system with ${needsApi ? 'a JSON-RPC API' : 'rate limits kept in Redis'} (drover) in --systems`);
    for (let run = 1; run <= options.runs; run++) for (const system of on) plan.push({ workload, system, run });
  }
  return plan;
}

async function runStep(system: BenchSystem, step: Step, s: BenchServers, quick: boolean): Promise<Metrics> {
  // --quick shrinks every workload about tenfold, to check the harness rather than to measure.
  const q = quick ? 10 : 1;
  switch (step.workload) {
    case 'drain':
      return drain(system, s, 1, 20_000 / q);
    case 'enqueue':
      return enqueue(system, s, 10_000 / q);
    case 'latency':
      return latency(system, s, 2_000 / q);
    case 'steady':
      return steady(system, s, 1_000, 20 / q);
    case 'scale1':
    case 'scale2':
    case 'scale4':
      return drain(system, s, Number(step.workload.slice(5)), 20_000 / q);
    case 'api-call':
      return apiCall(system, s, 2_000 / q, 200 / q);
    case 'api-drain':
      return apiDrain(system, s, 4, 20_000 / q);
    case 'drain-limited':
      return drainLimited(system, s, 20_000 / q, step.run);
    default:
      throw new Error(`unknown workload ${step.workload}`);
  }
}

export async function runBench(options: Options, env: NodeJS.ProcessEnv = process.env): Promise<{ results: Results; settings: Record<string, Record<string, unknown>>; table: string }> {
  const s = servers(env, options.namespace);
  const systems = new Map<string, BenchSystem>();
  for (const name of options.systems) systems.set(name, (await ADAPTERS[name]!()).system);
  const plan = steps(options, systems);
  const results: Results = {};
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({ format: 'bench [{bar}] {value}/{total} {step} | ETA {eta_formatted}', stream: process.stderr }, cliProgress.Presets.shades_classic)
    : null;
  bar?.start(plan.length, 0, { step: '' });
  try {
    for (const [i, step] of plan.entries()) {
      const label = `${step.workload} ${step.system} run ${step.run}/${options.runs}`;
      if (bar) bar.update(i, { step: label });
      else process.stderr.write(`[${i + 1}/${plan.length}] ${label}\n`);
      const metrics = await runStep(systems.get(step.system)!, step, s, options.quick);
      ((results[step.system] ??= {})[step.workload] ??= []).push(metrics);
    }
    bar?.update(plan.length, { step: 'done' });
  } finally {
    bar?.stop();
    for (const system of systems.values()) await system.shutdown();
  }
  const settings = Object.fromEntries([...systems].map(([name, system]) => [name, system.settings]));
  return { results, settings, table: renderTable(buildRows(results, options.systems), options.systems) };
}

function list(value: string, allowed: string[], what: string): string[] {
  const items = value.split(',').map((x) => x.trim()).filter(Boolean);
  for (const item of items) if (!allowed.includes(item)) throw new Error(`--${what}: unknown "${item}" (one of ${allowed.join(', ')})`);
  return items;
}

/** What the command line asks for: a run, a saved report to print again, or an exit (bad usage, --help). */
export type Invocation = { run: Options } | { report: string } | { exit: number };

/** Reads and checks the command line; throws an error naming the option for a bad value. */
export function parseArgs(argv: string[]): Invocation {
  const cmd = new Command('bench')
    .description('Drover side by side with pg-boss, graphile-worker and BullMQ, on the same servers (DATABASE_URL, AMQP_URL, REDIS_URL).')
    .option('--runs <n>', 'runs of each workload per system', '3')
    .option('--systems <list>', 'systems to run', ALL_SYSTEMS.join(','))
    .option('--workloads <list>', 'workloads to run', ALL_WORKLOADS.join(','))
    .option('--quick', 'about a tenth of each workload: checks the harness, measures nothing')
    .option('--namespace <name>', "Drover's namespace (schema, exchange, queues) for the run, so it can run beside another's (default bench_drover)")
    .option('--json', 'print the results as JSON instead of the table')
    .option('--out <file>', 'also write the JSON results to this file')
    .option('--report <file>', 'print the table of a saved --out file instead of running')
    .exitOverride();
  try {
    cmd.parse(argv, { from: 'user' });
  } catch {
    return { exit: 2 };
  }
  const o = cmd.opts<{ runs: string; systems: string; workloads: string; quick?: boolean; namespace?: string; json?: boolean; out?: string; report?: string }>();
  if (o.report) return { report: o.report };
  const options: Options = {
    runs: Number(o.runs),
    systems: list(o.systems, ALL_SYSTEMS, 'systems'),
    workloads: list(o.workloads, ALL_WORKLOADS, 'workloads'),
    json: Boolean(o.json),
    quick: Boolean(o.quick),
    // A reset drops the namespace's schema: only a name Drover itself would take is used.
    ...(o.namespace !== undefined ? { namespace: schemaFor(o.namespace, '--namespace') } : {}),
    ...(o.out ? { out: o.out } : {}),
  };
  if (!Number.isInteger(options.runs) || options.runs < 1) throw new Error('--runs: must be a positive integer');
  return { run: options };
}

export async function main(argv: string[]): Promise<number> {
  const invocation = parseArgs(argv);
  if ('exit' in invocation) return invocation.exit;
  if ('report' in invocation) {
    const saved = JSON.parse(readFileSync(invocation.report, 'utf8')) as { options: Options; results: Results };
    process.stdout.write(`${renderTable(buildRows(saved.results, saved.options.systems), saved.options.systems)}\n`);
    return 0;
  }
  const options = invocation.run;
  const { results, settings, table } = await runBench(options);
  const report = { date: new Date().toISOString(), options, node: process.version, settings, rows: buildRows(results, options.systems), results };
  if (options.out) writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${table}\n`);
  return 0;
}
