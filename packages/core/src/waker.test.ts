import { describe, expect, it } from 'vitest';
import { Waker } from './waker.js';

describe('Waker', () => {
  it('wakes a sleeper early', async () => {
    const waker = new Waker();
    const started = Date.now();
    const slept = waker.sleep(10_000);
    waker.wake();
    await slept;
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('remembers a wake-up that came while nobody slept', async () => {
    const waker = new Waker();
    waker.wake();
    const started = Date.now();
    await waker.sleep(10_000);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
