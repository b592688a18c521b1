/**
 * The benchmark's api-* workloads, in a tiny size, against the real services and a real `drover
 * controller` process (its JSON-RPC API on a free port), in a namespace of this file's own: each
 * runs to the end, its jobs are done by the path it claims to measure (remote workers through the
 * API, or the in-process shim), and its figures reach the report's rows. Speed is the benchmark's
 * business, not this file's: nothing here asserts how fast.
 */
import { afterAll, describe, expect, inject, it } from 'vitest';
import { deleteBrokerNamespace } from '@drover/broker';
import { createPgStore } from '@drover/store';
import { testNamespaceName } from '@drover/testing';
import { API_FUNCNAME, SHIM_FUNCNAME, apiCall, apiDrain } from '../src/api-workloads.js';
import { parseArgs, runBench } from '../src/main.js';
import { buildRows, renderTable } from '../src/report.js';
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

/** Completed jobs per function in the run's namespace, from the exit statuses kept. */
async function completed(): Promise<Record<string, number>> {
  const store = createPgStore({ connectionString: servers.databaseUrl, namespace: servers.namespace!, max: 1 });
  try {
    const counts = await store.counts();
    return Object.fromEntries(counts.filter((c) => c.state === 'completed').map((c) => [c.funcname, c.count]));
  } finally {
    await store.close();
  }
}

describe('the api-* workloads', () => {
  const results: Record<string, Record<string, number>[]> = {};

  it('api-call times calls through the API beside calls through the client library and a shim', async () => {
    const metrics = await apiCall(system, servers, 20, 5);
    results['api-call'] = [metrics];
    expect(metrics.calls).toBe(20);
    for (const path of ['api', 'shim']) {
      const [p50, p99, mean] = [metrics[`${path}P50Ms`]!, metrics[`${path}P99Ms`]!, metrics[`${path}MeanMs`]!];
      expect(p50).toBeGreaterThan(0);
      expect(p99).toBeGreaterThanOrEqual(p50);
      expect(Number.isFinite(mean)).toBe(true);
    }
    // Warm-up and measured calls, each through its own path: the remote worker's function and the shim's.
    expect(await completed()).toEqual({ [API_FUNCNAME]: 25, [SHIM_FUNCNAME]: 25 });
  });

  it('api-drain drains with remote workers in a process of their own', async () => {
    const metrics = await apiDrain(system, servers, 4, 300);
    results['api-drain'] = [metrics];
    expect(metrics.jobsPerSecond).toBeGreaterThan(0);
    // Every job ran in the remote workers' process, once: no shim drained the queue instead.
    expect(metrics.tasksRun).toBe(300);
    expect(await completed()).toEqual({ [API_FUNCNAME]: 300 });
  });

  it('reports both workloads, each API figure beside its in-process twin', () => {
    const rows = buildRows({ drover: results }, ['drover']);
    expect(rows.map((r) => r.label)).toEqual([
      'api-drain, 4 connections × 16 slots',
      'api-call p50: JSON-RPC call',
      'api-call p50: in-process call',
      'api-call p99: JSON-RPC call',
      'api-call p99: in-process call',
      'api-call mean: JSON-RPC call',
      'api-call mean: in-process call',
    ]);
    expect(rows[0]!.bySystem.drover!.median).toBe(results['api-drain']![0]!.jobsPerSecond);
    expect(rows[1]!.bySystem.drover!.median).toBe(results['api-call']![0]!.apiP50Ms);
    expect(rows[2]!.bySystem.drover!.median).toBe(results['api-call']![0]!.shimP50Ms);
    expect(renderTable(rows, ['drover'])).toContain('api-call p50: in-process call');
  });

  it('refuses an api-* workload when no system in the run has an API, before starting anything', async () => {
    await expect(runBench({ runs: 1, systems: ['pg-boss'], workloads: ['api-call'], json: false, quick: true })).rejects.toThrow(
      '--workloads: api-call needs a system with a JSON-RPC API (drover) in --systems',
    );
  });

  it('takes --namespace only as a schema name of Drover\'s own, naming the option otherwise', () => {
    expect(parseArgs(['--systems', 'drover', '--namespace', 'bench_mine'])).toMatchObject({ run: { namespace: 'bench_mine' } });
    // A reset drops the namespace's schema: `public`, or SQL text, must never get that far.
    for (const namespace of ['public', 'bench; DROP SCHEMA x', 'Bench', 'pg_bench']) {
      expect(() => parseArgs(['--systems', 'drover', '--namespace', namespace])).toThrow(/^--namespace: /);
    }
  });
});
