/**
 * The presence conformance suite: what Drover relies on from any presence registry. Both adapters
 * run it. Expiry is real time here (Redis's TTL cannot be moved by a test clock), with TTLs short
 * enough to wait out and long enough that a loaded machine does not expire a refreshed record.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { PresenceHeartbeat, ValidationError, silentLogger, type Presence, type WorkerPresence } from '@drover/core';
import { waitFor } from '@drover/testing';

let serial = 0;

/** A record with a fresh id. */
export function sampleWorker(overrides: Partial<WorkerPresence> = {}): WorkerPresence {
  return {
    id: `w-${process.pid}-${++serial}-${Date.now()}`,
    kind: 'shim',
    client: null,
    host: 'host-a',
    pid: 4242,
    functions: ['mail.send', 'b.fn'],
    slots: 8,
    running: 3,
    version: '0.1.0',
    startedAt: new Date('2030-01-02T03:04:05.678Z'),
    ...overrides,
  };
}

/** Long enough to outlast the checks that follow an announce on a busy machine. */
const LONG_TTL_MS = 30_000;
/** Short enough to wait out; several refreshes fit inside it even on a loaded machine. */
const SHORT_TTL_MS = 1_500;

/** `make` gives a fresh registry on a namespace of its own each time it is called. */
export function describePresenceConformance(name: string, make: () => Promise<Presence>): void {
  describe(`presence conformance: ${name}`, () => {
    const made: Presence[] = [];
    const fresh = async (): Promise<Presence> => {
      const p = await make();
      made.push(p);
      return p;
    };
    afterAll(async () => {
      await Promise.all(made.map((p) => p.close()));
    });

    it('lists an announced worker with every field it gave, functions sorted, and when it expires', async () => {
      const presence = await fresh();
      const worker = sampleWorker({ kind: 'remote', client: 'perl-worker', pid: null });
      const before = Date.now();
      await presence.announce(worker, LONG_TTL_MS);
      const [listed, ...rest] = await presence.list();
      expect(rest).toEqual([]);
      expect(listed).toMatchObject({ ...worker, functions: ['b.fn', 'mail.send'] });
      expect(listed!.seenAt.getTime()).toBeGreaterThanOrEqual(before - 1_000);
      expect(listed!.expiresAt.getTime()).toBeGreaterThan(Date.now());
      expect(listed!.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + LONG_TTL_MS + 1_000);
    });

    it('replaces a worker on its next announce, never listing it twice, and orders the list by id', async () => {
      const presence = await fresh();
      const a = sampleWorker({ id: 'a-worker' });
      const b = sampleWorker({ id: 'b-worker' });
      await presence.announce(b, LONG_TTL_MS);
      await presence.announce(a, LONG_TTL_MS);
      await presence.announce({ ...a, running: 7 }, LONG_TTL_MS);
      const listed = await presence.list();
      expect(listed.map((w) => [w.id, w.running])).toEqual([['a-worker', 7], ['b-worker', 3]]);
    });

    it('drops a withdrawn worker at once, and withdrawing an unknown id is harmless', async () => {
      const presence = await fresh();
      const a = sampleWorker();
      const b = sampleWorker();
      await presence.announce(a, LONG_TTL_MS);
      await presence.announce(b, LONG_TTL_MS);
      await presence.withdraw(a.id);
      await presence.withdraw('never-announced');
      expect((await presence.list()).map((w) => w.id)).toEqual([b.id]);
    });

    it('drops a worker that stops announcing once its TTL passes, while one that keeps announcing stays', async () => {
      const presence = await fresh();
      const silent = sampleWorker({ id: 'silent' });
      const beating = sampleWorker({ id: 'beating' });
      await presence.announce(silent, SHORT_TTL_MS);
      const announcedAt = Date.now();
      const heartbeat = new PresenceHeartbeat({ presence, heartbeatMs: SHORT_TTL_MS / 2 / 3, record: () => beating, logger: silentLogger });
      heartbeat.start();
      try {
        // Polled, not slept: the silent one goes when its TTL runs out, and not before.
        await waitFor(async () => !(await presence.list()).some((w) => w.id === 'silent'), { timeoutMs: 20_000, what: 'the silent worker to expire' });
        expect(Date.now() - announcedAt).toBeGreaterThanOrEqual(SHORT_TTL_MS - 50);
        // The beating one has outlived several of its own TTLs (heartbeatMs × 2) by now.
        expect((await presence.list()).map((w) => w.id)).toEqual(['beating']);
      } finally {
        await heartbeat.stop();
      }
      expect(await presence.list()).toEqual([]);
    });

    it('refuses a bad record with an error naming the field, and stores nothing', async () => {
      const presence = await fresh();
      const bad: [string, Partial<WorkerPresence> | null, number][] = [
        ['id', { id: '' }, LONG_TTL_MS],
        ['id', { id: 'has space' }, LONG_TTL_MS],
        ['kind', { kind: 'daemon' as WorkerPresence['kind'] }, LONG_TTL_MS],
        ['pid', { pid: -1 }, LONG_TTL_MS],
        ['slots', { slots: 1.5 }, LONG_TTL_MS],
        ['running', { running: -1 }, LONG_TTL_MS],
        ['functions', { functions: [3] as unknown as string[] }, LONG_TTL_MS],
        ['startedAt', { startedAt: new Date(Number.NaN) }, LONG_TTL_MS],
        ['ttlMs', null, 0],
      ];
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...bad), async ([field, patch, ttlMs]) => {
          const err = await presence.announce(sampleWorker(patch ?? {}), ttlMs).then(() => null, (e: unknown) => e);
          expect(err).toBeInstanceOf(ValidationError);
          expect((err as ValidationError).field).toBe(field);
          expect(await presence.list()).toEqual([]);
        }),
        { numRuns: 30 },
      );
    });
  });
}
