import { describe, expect, it } from 'vitest';
import { brokerPriority, queueName } from './topology.js';

describe('topology', () => {
  it('maps job priorities onto 10 broker levels, keeping their order', () => {
    expect([-100, -50, 0, 50, 100].map(brokerPriority)).toEqual([0, 2, 5, 7, 9]);
    expect(brokerPriority(1000)).toBe(9);
  });

  it('prefixes queues with the namespace', () => {
    expect(queueName('tenant_a', 'email.send')).toBe('tenant_a.fn.email.send');
  });
});
