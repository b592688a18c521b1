import { describe, expect, it } from 'vitest';
import { ManualClock } from './clock.js';

describe('ManualClock', () => {
  it('moves only when told to', () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const before = clock.now().getTime();
    expect(clock.now().getTime()).toBe(before);
    expect(clock.advance(1500).getTime()).toBe(before + 1500);
    expect(clock.set(new Date(0)).getTime()).toBe(0);
  });
});
