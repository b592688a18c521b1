/**
 * Enqueue-to-start latency on an idle system, through real processes (`drover up` and `drover
 * worker` on the real PostgreSQL and RabbitMQ). The relay's sweep, its safety net for a lost
 * NOTIFY, is an hour away here: a job that starts at all was found by the insert's NOTIFY or by
 * the relay's own looks as it fell asleep, and did not wait for the sweep. That is what is claimed;
 * the figures are printed as a sample, and no speed is asserted.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@drover/testing';
import { percentile, useDrover } from './harness.js';

const drover = useDrover();
/** An hour, the longest sweep the configuration accepts: far past every wait below. */
const SWEEP_MS = 3_600_000;

beforeAll(async () => {
  drover.startUp({ DROVER_RELAY_SWEEP_MS: String(SWEEP_MS) });
  drover.startWorker();
  // Ready when a job makes the round trip.
  const { id } = await drover.client.enqueue({ funcname: 'e2e.double', arg: { n: 0 } });
  await waitFor(async () => (await drover.client.getJob(id))?.state === 'completed', { what: 'the processes to come up', timeoutMs: 30_000 });
});

describe('latency when idle', () => {
  it('starts each job enqueued on an idle system without waiting for the relay sweep (latency sample)', async () => {
    const created = new Map<string, number>();
    const relayAsleep = async (): Promise<boolean> => (await drover.ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM sleeping_relays')).rows[0]!.n > 0;
    for (let i = 0; i < 100; i++) {
      // Idle: the relay has found nothing more to do and announced its sleep (so inserts NOTIFY it).
      await waitFor(relayAsleep, { what: 'the relay to announce its sleep', intervalMs: 2 });
      const { id } = await drover.client.enqueue({ funcname: 'e2e.double', arg: { n: i } });
      created.set(id, Date.now());
      // Nothing else in flight: the next job is enqueued once this one has started. The deadline is the default 10 s, a 360th of the sweep.
      await waitFor(() => drover.runs().some((r) => r.id === id), { what: `job ${id} to start without the sweep`, intervalMs: 2 });
    }
    const latencies = drover.runs().filter((r) => created.has(r.id)).map((r) => r.at - created.get(r.id)!).sort((a, b) => a - b);
    expect(latencies).toHaveLength(100);
    console.log(`[e2e] enqueue -> handler start over 100 jobs, idle: p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms, max ${latencies.at(-1)} ms`);
  });
});
