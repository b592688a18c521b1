import { describe, expect, it } from 'vitest';
import { Semaphore } from './semaphore.js';

describe('Semaphore', () => {
  it('lets at most its slots through and hands a released slot to the next waiter', async () => {
    const sem = new Semaphore(2);
    const order: string[] = [];
    await sem.acquire();
    await sem.acquire();
    const third = sem.acquire().then(() => order.push('third'));
    await Promise.resolve();
    expect(order).toEqual([]);
    sem.release();
    await third;
    expect(order).toEqual(['third']);
  });

  it('gives up a bounded wait without taking a slot, and a later release goes to the next waiter', async () => {
    const sem = new Semaphore(1);
    expect(await sem.tryAcquire(10)).toBe(true);
    expect(await sem.tryAcquire(10)).toBe(false);
    const next = sem.tryAcquire(10_000);
    sem.release();
    expect(await next).toBe(true);
    sem.release();
    expect(await sem.tryAcquire(10)).toBe(true);
  });
});
