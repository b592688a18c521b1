/**
 * What flow control costs when it never refuses (Drover's only: the peers' limiters are not kept
 * across a fleet in the same way):
 * - drain-limited: the drain (20,000 no-op jobs, one worker process of 16 slots) twice in one
 *   run, once with no limit and once with the function's rate limit set far above the drain rate
 *   (1,000,000 starts a second, kept in Redis), so that every start asks Redis and none waits;
 *   both rates and the slowdown. The issue's target: under 15 % slower.
 */
import type { BenchRateLimit, BenchServers, BenchSystem } from './system.js';
import { drain, type Metrics } from './workloads.js';

/** The workloads of this file, as `--workloads` names them. */
export const FLOW_WORKLOADS = ['drain-limited'];

/**
 * A million starts a second: two orders of magnitude above what one process drains here (a few
 * thousand a second), so the limit is asked on every start and never refuses one.
 */
export const BENCH_RATE_LIMIT: BenchRateLimit = { max: 1_000_000, perMs: 1000 };

/**
 * The two drains, each from a fresh schema and queue: the odd runs drain unlimited first, the even
 * runs limited first, so that neither always gets the warmer (or the noisier) half of the minute.
 * `slowdownPct` is how much slower the limited drain was, in per cent of the unlimited one
 * (negative when it was faster). `rateLimit` is the benchmark's limit unless a test gives another.
 */
export async function drainLimited(system: BenchSystem, servers: BenchServers, total = 20_000, run = 1, rateLimit = BENCH_RATE_LIMIT): Promise<Metrics> {
  if (!system.rateLimits) throw new Error(`${system.name} has no fleet-wide rate limit in Redis: drain-limited runs on drover only`);
  const limitedFirst = run % 2 === 0;
  let unlimited = 0;
  let limited = 0;
  for (const withLimit of limitedFirst ? [true, false] : [false, true]) {
    const { jobsPerSecond } = await drain(system, servers, 1, total, withLimit ? rateLimit : undefined);
    if (withLimit) limited = jobsPerSecond!;
    else unlimited = jobsPerSecond!;
  }
  return { unlimitedJobsPerSecond: unlimited, limitedJobsPerSecond: limited, slowdownPct: (1 - limited / unlimited) * 100, limitedFirst: limitedFirst ? 1 : 0 };
}
