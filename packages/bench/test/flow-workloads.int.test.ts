/**
 * The benchmark's drain-limited workload, in a tiny size, against the real services, a real
 * `drover controller` process and Redis, in a namespace of this file's own: both drains run to the
 * end, the limited one really is held to its rate limit (a tight one here, so that the limit shows
 * in the time taken), and the figures reach the report's rows. Speed is the benchmark's business,
 * not this file's: nothing here asserts how fast the unlimited drain is.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { deleteBrokerNamespace } from '@drover/broker';
import { testNamespaceName } from '@drover/testing';
import { API_FUNCNAME, SHIM_FUNCNAME } from '../src/api-workloads.js';
import { drainLimited } from '../src/flow-workloads.js';
import { runBench } from '../src/main.js';
import { buildRows } from '../src/report.js';
import type { BenchServers } from '../src/system.js';
import { dropSchema } from '../src/systems/postgres.js';
import { system } from '../src/systems/drover.js';

const services = inject('droverServices');
const servers: BenchServers = { databaseUrl: services.databaseUrl, amqpUrl: services.amqpUrl, redisUrl: services.redisUrl, namespace: testNamespaceName() };

afterAll(async () => {
  await system.shutdown();
  await dropSchema(servers.databaseUrl, servers.namespace!);
  await deleteBrokerNamespace({ url: servers.amqpUrl, namespace: servers.namespace!, funcnames: ['bench', API_FUNCNAME, SHIM_FUNCNAME] });
});

describe('the drain-limited workload', () => {
  const results: Record<string, Record<string, number>[]> = {};

  it('drains with no limit and under the rate limit, and reports the slowdown', async () => {
    // 120 jobs under 50 starts a second: the sliding window lets 50 at once, then 50 a second
    // later, and the last 20 a second after that, so the limited drain takes at least 2 s.
    const limit = { max: 50, perMs: 1000 };
    // One run (the limited drain second); the order alternating between runs is one line of
    // drainLimited, and each run here costs a controller process and two drains of CI time.
    for (const run of [1]) {
      const metrics = await drainLimited(system, servers, 120, run, limit);
      (results['drain-limited'] ??= []).push(metrics);
      expect(metrics.limitedFirst).toBe(0);
      expect(metrics.unlimitedJobsPerSecond).toBeGreaterThan(0);
      expect(metrics.limitedJobsPerSecond).toBeGreaterThan(0);
      expect(metrics.limitedJobsPerSecond).toBeLessThanOrEqual(120 / 2);
      expect(metrics.slowdownPct).toBeCloseTo((1 - metrics.limitedJobsPerSecond! / metrics.unlimitedJobsPerSecond!) * 100, 6);
    }
  });

  it('reports both rates and the slowdown', () => {
    const rows = buildRows({ drover: results }, ['drover']);
    expect(rows.map((r) => [r.label, r.unit])).toEqual([
      ['drain-limited: no limit', 'jobs/s'],
      ['drain-limited: rate limit 1M/s in Redis', 'jobs/s'],
      ['drain-limited: slowdown', '%'],
    ]);
    expect(rows[2]!.bySystem.drover!.runs).toBe(1);
  });

  it('refuses drain-limited when no system in the run keeps rate limits in Redis, before starting anything', async () => {
    await expect(runBench({ runs: 1, systems: ['pg-boss'], workloads: ['drain-limited'], json: false, quick: true })).rejects.toThrow(
      '--workloads: drain-limited needs a system with rate limits kept in Redis (drover) in --systems',
    );
  });
});
