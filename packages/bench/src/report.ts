/**
 * The report: for each workload and metric, every system's median over the runs with its spread
 * (min–max), and Drover's ratio to the best peer, as a table for people and JSON for machines.
 */
import { formatTable as table } from '@drover/core';

/** One metric of one workload: how it reads, and which way is better. */
export interface MetricSpec {
  workload: string;
  metric: string;
  label: string;
  higherIsBetter: boolean;
  unit: string;
}

export const METRICS: MetricSpec[] = [
  { workload: 'drain', metric: 'jobsPerSecond', label: 'drain, 1 process × 16 slots', higherIsBetter: true, unit: 'jobs/s' },
  // Right under drain: the same drain through the API, by remote workers (Drover only).
  { workload: 'api-drain', metric: 'jobsPerSecond', label: 'api-drain, 4 connections × 16 slots', higherIsBetter: true, unit: 'jobs/s' },
  // Right under it too: the same drain twice in one run, with a rate limit far above its rate and without (Drover only).
  { workload: 'drain-limited', metric: 'unlimitedJobsPerSecond', label: 'drain-limited: no limit', higherIsBetter: true, unit: 'jobs/s' },
  { workload: 'drain-limited', metric: 'limitedJobsPerSecond', label: 'drain-limited: rate limit 1M/s in Redis', higherIsBetter: true, unit: 'jobs/s' },
  { workload: 'drain-limited', metric: 'slowdownPct', label: 'drain-limited: slowdown', higherIsBetter: false, unit: '%' },
  { workload: 'enqueue', metric: 'enqueuesPerSecond', label: 'enqueue, 16 in flight', higherIsBetter: true, unit: '/s' },
  { workload: 'enqueue', metric: 'callP50Ms', label: 'enqueue call p50', higherIsBetter: false, unit: 'ms' },
  { workload: 'enqueue', metric: 'callP99Ms', label: 'enqueue call p99', higherIsBetter: false, unit: 'ms' },
  { workload: 'latency', metric: 'p50Ms', label: 'latency p50 (enqueue → start)', higherIsBetter: false, unit: 'ms' },
  { workload: 'latency', metric: 'p95Ms', label: 'latency p95', higherIsBetter: false, unit: 'ms' },
  { workload: 'latency', metric: 'p99Ms', label: 'latency p99', higherIsBetter: false, unit: 'ms' },
  { workload: 'latency', metric: 'maxMs', label: 'latency max', higherIsBetter: false, unit: 'ms' },
  // Each API figure above its in-process twin from the same run (Drover only).
  { workload: 'api-call', metric: 'apiP50Ms', label: 'api-call p50: JSON-RPC call', higherIsBetter: false, unit: 'ms' },
  { workload: 'api-call', metric: 'shimP50Ms', label: 'api-call p50: in-process call', higherIsBetter: false, unit: 'ms' },
  { workload: 'api-call', metric: 'apiP99Ms', label: 'api-call p99: JSON-RPC call', higherIsBetter: false, unit: 'ms' },
  { workload: 'api-call', metric: 'shimP99Ms', label: 'api-call p99: in-process call', higherIsBetter: false, unit: 'ms' },
  { workload: 'api-call', metric: 'apiMeanMs', label: 'api-call mean: JSON-RPC call', higherIsBetter: false, unit: 'ms' },
  { workload: 'api-call', metric: 'shimMeanMs', label: 'api-call mean: in-process call', higherIsBetter: false, unit: 'ms' },
  { workload: 'steady', metric: 'completedPerSecond', label: 'steady 1,000/s: completed', higherIsBetter: true, unit: '/s' },
  { workload: 'steady', metric: 'p99Ms', label: 'steady 1,000/s: p99', higherIsBetter: false, unit: 'ms' },
  { workload: 'steady', metric: 'keptUp', label: 'steady 1,000/s: kept up (runs)', higherIsBetter: true, unit: '' },
  { workload: 'scale1', metric: 'jobsPerSecond', label: 'scale: 1 process', higherIsBetter: true, unit: 'jobs/s' },
  { workload: 'scale2', metric: 'jobsPerSecond', label: 'scale: 2 processes', higherIsBetter: true, unit: 'jobs/s' },
  { workload: 'scale4', metric: 'jobsPerSecond', label: 'scale: 4 processes', higherIsBetter: true, unit: 'jobs/s' },
];

/** results[system][workload] = one Metrics per run. */
export type Results = Record<string, Record<string, Record<string, number>[]>>;

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, runs: sorted.length };
}

const fmt = (n: number): string => (Number.isNaN(n) ? '-' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(n >= 10 ? 1 : 2));

export interface ReportRow {
  label: string;
  unit: string;
  higherIsBetter: boolean;
  bySystem: Record<string, Summary | null>;
  /** Drover's median over the best peer's (higher is better for throughput), or over it for latencies (lower is better). */
  ratioToBestPeer: number | null;
  bestPeer: string | null;
  /** The same against the best peer that commits to PostgreSQL (BullMQ's Redis here keeps nothing on disk). */
  ratioToBestDurablePeer: number | null;
  bestDurablePeer: string | null;
}

/** Peers whose writes are durable on this machine (PostgreSQL with fsync and synchronous_commit on). */
export const DURABLE_PEERS = ['pg-boss', 'graphile-worker'];

/** The rows of the workloads that ran (a workload left out of the run leaves no empty row). */
export function buildRows(results: Results, systems: string[]): ReportRow[] {
  const ran = METRICS.filter((m) => systems.some((s) => (results[s]?.[m.workload]?.length ?? 0) > 0));
  const rows: ReportRow[] = ran.map((m) => {
    const bySystem: Record<string, Summary | null> = {};
    for (const s of systems) {
      const runs = results[s]?.[m.workload] ?? [];
      const values = runs.map((r) => r[m.metric]).filter((v): v is number => typeof v === 'number');
      bySystem[s] = values.length ? summarize(values) : null;
    }
    if (m.metric === 'keptUp') for (const s of systems) if (bySystem[s]) bySystem[s] = { ...bySystem[s], median: (results[s]?.steady ?? []).reduce((n, r) => n + (r.keptUp ?? 0), 0) };
    const bestOf = (candidates: string[]): string | null =>
      candidates.filter((s) => s !== 'drover' && bySystem[s]).sort((a, b) => (m.higherIsBetter ? bySystem[b]!.median - bySystem[a]!.median : bySystem[a]!.median - bySystem[b]!.median))[0] ?? null;
    const best = bestOf(systems);
    const bestDurable = bestOf(systems.filter((s) => DURABLE_PEERS.includes(s)));
    const drover = bySystem.drover;
    const ratio = (peer: string | null): number | null => (drover && peer && m.metric !== 'keptUp' ? drover.median / bySystem[peer]!.median : null);
    return {
      label: m.label, unit: m.unit, higherIsBetter: m.higherIsBetter, bySystem,
      ratioToBestPeer: ratio(best), bestPeer: best, ratioToBestDurablePeer: ratio(bestDurable), bestDurablePeer: bestDurable,
    };
  });
  return rows;
}

/** Ratios are Drover ÷ peer: above 1 is better for throughput rows, below 1 for latency rows (ms). */
export function renderTable(rows: ReportRow[], systems: string[]): string {
  return table(
    ['workload', 'unit', ...systems, 'drover ÷ best peer', 'drover ÷ best PostgreSQL peer'],
    rows.map((r) => [
      r.label,
      r.unit,
      ...systems.map((s) => {
        const v = r.bySystem[s];
        if (!v) return '-';
        return v.runs > 1 && r.unit !== '' ? `${fmt(v.median)} (${fmt(v.min)}–${fmt(v.max)})` : fmt(v.median);
      }),
      r.ratioToBestPeer === null ? '' : `${r.ratioToBestPeer.toFixed(2)}× ${r.bestPeer}`,
      r.ratioToBestDurablePeer === null ? '' : `${r.ratioToBestDurablePeer.toFixed(2)}× ${r.bestDurablePeer}`,
    ]),
  );
}
