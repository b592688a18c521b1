import { describe, expect, it } from 'vitest';
import { Acker, type AckChannel } from './acker.js';

function recorder(): AckChannel & { frames: string[] } {
  const frames: string[] = [];
  return {
    frames,
    ack: (m, allUpTo = false) => void frames.push(`ack ${m.fields.deliveryTag}${allUpTo ? ' multiple' : ''}`),
    nack: (m, _allUpTo, requeue) => void frames.push(`nack ${m.fields.deliveryTag}${requeue ? ' requeue' : ''}`),
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Acker', () => {
  it('sends the acks of one turn as one multiple ack when they are the oldest deliveries', async () => {
    const channel = recorder();
    const acker = new Acker(channel);
    for (const tag of [1, 2, 3, 4]) acker.delivered(tag);
    acker.ack(2);
    acker.ack(1);
    acker.ack(3);
    expect(channel.frames).toEqual([]);
    await turn();
    expect(channel.frames).toEqual(['ack 3 multiple']);
  });

  it('acks out-of-order deliveries one by one, never covering an unsettled older one', async () => {
    const channel = recorder();
    const acker = new Acker(channel);
    for (const tag of [1, 2, 3, 4, 5]) acker.delivered(tag);
    acker.ack(3);
    acker.ack(5);
    await turn();
    expect(channel.frames).toEqual(['ack 3', 'ack 5']);
    acker.ack(1);
    await turn();
    expect(channel.frames.at(-1)).toBe('ack 1 multiple');
    acker.ack(4);
    acker.ack(2);
    await turn();
    expect(channel.frames.at(-1)).toBe('ack 4 multiple');
  });

  it('nacks at once, and a later multiple ack never covers the nacked delivery', async () => {
    const channel = recorder();
    const acker = new Acker(channel);
    for (const tag of [1, 2, 3]) acker.delivered(tag);
    acker.nack(1, true);
    expect(channel.frames).toEqual(['nack 1 requeue']);
    acker.ack(3);
    await turn();
    // 2 is still running: 3 goes alone.
    expect(channel.frames.at(-1)).toBe('ack 3');
    acker.ack(2);
    await turn();
    expect(channel.frames.at(-1)).toBe('ack 2 multiple');
  });
});
