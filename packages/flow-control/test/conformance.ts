/**
 * The flow-control conformance suite: what the worker relies on from any FlowControl. Redis and
 * memory both run it. Time is a ManualClock handed to the implementation, so windows and leases
 * move without sleeping; windows and leases are long (a minute) so that Redis's own key expiry,
 * which runs on real time, never fires during a test.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, type FlowControl } from '@drover/core';

export interface FlowHarness {
  /** A flow control on this run's namespace (or, given `other`, on another one), on `clock`. */
  make(clock: ManualClock, other?: string): Promise<FlowControl>;
}

const MINUTE = 60_000;

export function describeFlowControlConformance(name: string, harness: FlowHarness): void {
  describe(`flow-control conformance: ${name}`, () => {
    let n = 0;
    const fresh = async (clock = new ManualClock()): Promise<{ flow: FlowControl; clock: ManualClock; bucket: string }> => {
      const flow = await harness.make(clock);
      return { flow, clock, bucket: `b${++n}` };
    };

    it('takes at most max starts in a window, refuses the next with the wait until the oldest leaves, and takes nothing when it refuses', async () => {
      const { flow, clock, bucket } = await fresh();
      const limit = { max: 3, perMs: MINUTE };
      for (let i = 0; i < 3; i++) {
        expect(await flow.takeStart(bucket, limit)).toEqual({ ok: true });
        clock.advance(1000);
      }
      // The starts were at 0, 1 s and 2 s; it is now 3 s: the first leaves the window at 60 s.
      expect(await flow.takeStart(bucket, limit)).toEqual({ ok: false, retryAfterMs: MINUTE - 3000 });
      clock.advance(MINUTE - 3000 - 1);
      expect(await flow.takeStart(bucket, limit)).toEqual({ ok: false, retryAfterMs: 1 });
      clock.advance(1);
      expect(await flow.takeStart(bucket, limit)).toEqual({ ok: true });
      // The refusals took nothing: the one start free now is the second's, at 61 s.
      expect(await flow.takeStart(bucket, limit)).toEqual({ ok: false, retryAfterMs: 1000 });
      clock.advance(1000);
      expect(await flow.takeStart(bucket, limit)).toEqual({ ok: true });
      await flow.close();
    });

    it('never lets more than max starts through among many concurrent takers', async () => {
      const { flow, bucket } = await fresh();
      const answers = await Promise.all(Array.from({ length: 60 }, () => flow.takeStart(bucket, { max: 7, perMs: MINUTE })));
      expect(answers.filter((a) => a.ok)).toHaveLength(7);
      await flow.close();
    });

    it('takes a batch of starts in one call: as many as the window has room for, counted at one instant', async () => {
      const { flow, clock, bucket } = await fresh();
      const limit = { max: 5, perMs: MINUTE };
      expect(await flow.takeStarts(bucket, limit, 3)).toEqual({ granted: 3, retryAfterMs: 0, spare: 0 });
      clock.advance(1000);
      // Room for two of the four asked: the oldest (the batch of three, at 0) leaves the window at 60 s.
      expect(await flow.takeStarts(bucket, limit, 4)).toEqual({ granted: 2, retryAfterMs: MINUTE - 1000, spare: 0 });
      expect(await flow.takeStarts(bucket, limit, 1)).toEqual({ granted: 0, retryAfterMs: MINUTE - 1000, spare: 0 });
      expect(await flow.takeStart(bucket, limit)).toEqual({ ok: false, retryAfterMs: MINUTE - 1000 });
      // Asking for none takes none, and asks nothing of a full window.
      expect(await flow.takeStarts(bucket, limit, 0)).toEqual({ granted: 0, retryAfterMs: 0, spare: 0 });
      clock.advance(MINUTE - 1000);
      // The batch of three left the window together, at one instant.
      expect(await flow.takeStarts(bucket, limit, 10)).toEqual({ granted: 3, retryAfterMs: 1000, spare: 0 });
      await flow.close();
    });

    it('grants spare starts only with every start asked and while the window stays a quarter full, and counts them', async () => {
      const { flow, clock, bucket } = await fresh();
      const limit = { max: 40, perMs: MINUTE };
      // 2 asked + 8 spare = 10, a quarter of 40: granted, all counted now.
      expect(await flow.takeStarts(bucket, limit, 2, 8)).toEqual({ granted: 2, retryAfterMs: 0, spare: 8 });
      clock.advance(1000);
      // 10 held: one more asked with any spare would pass the quarter, so the spares are refused, the start is not.
      expect(await flow.takeStarts(bucket, limit, 1, 1)).toEqual({ granted: 1, retryAfterMs: 0, spare: 0 });
      expect(await flow.takeStarts(bucket, limit, 29)).toEqual({ granted: 29, retryAfterMs: 0, spare: 0 });
      // The spares were counted: 2 + 8 + 1 + 29 = 40, the window is full.
      expect(await flow.takeStarts(bucket, limit, 1, 5)).toEqual({ granted: 0, retryAfterMs: MINUTE - 1000, spare: 0 });
      await flow.close();
    });

    it('never lets more than max starts through among many concurrent batch takers', async () => {
      const { flow, bucket } = await fresh();
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => flow.takeStarts(bucket, { max: 23, perMs: MINUTE }, 1 + (i % 4), i % 3)));
      expect(answers.reduce((n, a) => n + a.granted + a.spare, 0)).toBe(23);
      await flow.close();
    });

    it('keeps buckets, and namespaces, apart', async () => {
      const clock = new ManualClock();
      const { flow, bucket } = await fresh(clock);
      const limit = { max: 1, perMs: MINUTE };
      expect((await flow.takeStart(bucket, limit)).ok).toBe(true);
      expect((await flow.takeStart(bucket, limit)).ok).toBe(false);
      expect((await flow.takeStart(`${bucket}.other`, limit)).ok).toBe(true);
      const stranger = await harness.make(clock, 'stranger');
      expect((await stranger.takeStart(bucket, limit)).ok).toBe(true);
      await Promise.all([flow.close(), stranger.close()]);
    });

    it('holds at most cap places, refuses with the time until the first lease ends, and frees a released place', async () => {
      const { flow, clock, bucket } = await fresh();
      expect(await flow.takePlace(bucket, 'a', 2, MINUTE)).toEqual({ ok: true });
      clock.advance(1000);
      expect(await flow.takePlace(bucket, 'b', 2, MINUTE)).toEqual({ ok: true });
      expect(await flow.takePlace(bucket, 'c', 2, MINUTE)).toEqual({ ok: false, retryAfterMs: MINUTE - 1000 });
      // A holder taking its own place again renews it, and takes no second place.
      expect(await flow.takePlace(bucket, 'a', 2, MINUTE)).toEqual({ ok: true });
      expect((await flow.takePlace(bucket, 'c', 2, MINUTE)).ok).toBe(false);
      await flow.releasePlace({ bucket, holder: 'b' });
      await flow.releasePlace({ bucket, holder: 'never-held' });
      expect(await flow.takePlace(bucket, 'c', 2, MINUTE)).toEqual({ ok: true });
      expect((await flow.takePlace(bucket, 'd', 2, MINUTE)).ok).toBe(false);
      await flow.close();
    });

    it("gives a place back when its lease runs out, and keeps a renewed one", async () => {
      const { flow, clock, bucket } = await fresh();
      const lease = 30_000;
      expect((await flow.takePlace(bucket, 'dead', 2, lease)).ok).toBe(true);
      expect((await flow.takePlace(bucket, 'alive', 2, lease)).ok).toBe(true);
      clock.advance(lease - 1000);
      await flow.renewPlaces([{ bucket, holder: 'alive' }], lease);
      expect((await flow.takePlace(bucket, 'new', 2, lease)).ok).toBe(false);
      clock.advance(1000);
      // The dead holder's lease ended; the renewed one runs for 29 s more.
      expect(await flow.takePlace(bucket, 'new', 2, lease)).toEqual({ ok: true });
      expect(await flow.takePlace(bucket, 'third', 2, lease)).toEqual({ ok: false, retryAfterMs: lease - 1000 });
      await flow.close();
    });

    it('never holds more than cap places among many concurrent takers', async () => {
      const { flow, bucket } = await fresh();
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => flow.takePlace(bucket, `h${i}`, 2, MINUTE)));
      expect(answers.filter((a) => a.ok)).toHaveLength(2);
      await flow.close();
    });

    it('is available until closed', async () => {
      const { flow } = await fresh();
      expect(flow.available()).toBe(true);
      await flow.close();
      expect(flow.available()).toBe(false);
    });
  });
}
