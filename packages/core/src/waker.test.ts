import { describe, expect, it } from 'vitest';
import { Waker } from './waker.js';

describe('Waker', () => {
  it('wakes a sleeper early, and says so', async () => {
    const waker = new Waker();
    const slept = waker.sleep(10_000);
    waker.wake();
    expect(await slept).toBe('woken');
  });

  it('remembers a wake-up that came while nobody slept', async () => {
    const waker = new Waker();
    waker.wake();
    expect(await waker.sleep(10_000)).toBe('woken');
  });

  it('says when the time ran out without a wake-up', async () => {
    expect(await new Waker().sleep(1)).toBe('slept');
  });
});
