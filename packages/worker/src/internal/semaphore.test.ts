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
});
