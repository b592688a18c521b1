/**
 * The in-memory adapter (embedded mode): the conformance suite, and expiry on an injected clock.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '@drover/core';
import { createMemoryPresence } from '@drover/presence';
import { describePresenceConformance, sampleWorker } from './conformance.js';

describePresenceConformance('memory', () => Promise.resolve(createMemoryPresence()));

describe('MemoryPresence on a manual clock', () => {
  it('lists a worker until exactly its TTL has passed on the clock', async () => {
    const clock = new ManualClock();
    const presence = createMemoryPresence({ clock });
    const worker = sampleWorker();
    await presence.announce(worker, 10_000);
    clock.advance(9_999);
    expect((await presence.list()).map((w) => w.id)).toEqual([worker.id]);
    expect((await presence.list())[0]!.expiresAt).toEqual(new Date(clock.now().getTime() + 1));
    clock.advance(1);
    expect(await presence.list()).toEqual([]);
  });

  it('keeps what was announced, not the caller object changed afterwards', async () => {
    const presence = createMemoryPresence();
    const worker = sampleWorker();
    await presence.announce(worker, 10_000);
    worker.functions.push('later.added');
    worker.running = 99;
    expect((await presence.list())[0]).toMatchObject({ running: 3, functions: ['b.fn', 'mail.send'] });
  });
});
