/**
 * The chaos matrix's CI-sized variant (`test/chaos/main.ts --short`): every fault kind once
 * against real processes and services. Nothing committed may be lost, no outcome may be
 * accepted after its lease ended, and every extra run must have a cause (a death, a partition or
 * an expired lease). It stops and starts PostgreSQL and RabbitMQ: run it under the exclusive lock
 * (`flock -x /tmp/drover-svc.lock npx vitest run test/e2e/chaos.e2e.test.ts`); it runs the tool
 * directly, since `npm run chaos` would wait for the lock this run already holds.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { FaultFigures } from '../chaos/analyse.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The short matrix (1 of each fault, for CI time) takes about a minute here; four times that before the test gives up. */
const CHAOS_TIMEOUT_MS = 600_000;

describe('chaos matrix (short)', () => {
  it('loses nothing, accepts no outcome without its lease, and explains every extra run', async () => {
    const child = spawn(process.execPath, ['--conditions=drover-source', '--import', 'tsx', 'test/chaos/main.ts', '--short', '--json'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const lastLine = stdout.trim().split('\n').at(-1) ?? '';
    expect(lastLine, stderr).toMatch(/^\{/);
    const { figures } = JSON.parse(lastLine) as { figures: FaultFigures[] };
    expect(figures.map((f) => f.fault)).toEqual(['kill-worker', 'kill-controller', 'kill-scheduler', 'rabbitmq-restart', 'postgres-restart', 'partition-worker-pg', 'partition-worker-amqp', 'mixed']);
    for (const f of figures) {
      expect({ fault: f.fault, injected: f.injected, committedSome: f.committed > 0 }).toEqual({ fault: f.fault, injected: 1, committedSome: true });
      expect({ fault: f.fault, lost: f.lost, withoutLease: f.completedWithoutLease, unexplained: f.extraUnexplained, notRecovered: f.notRecovered, examples: f.examples })
        .toEqual({ fault: f.fault, lost: 0, withoutLease: 0, unexplained: 0, notRecovered: 0, examples: { lost: [], unexplained: [], withoutLease: [] } });
    }
    expect(code).toBe(0);
  }, CHAOS_TIMEOUT_MS);
});
