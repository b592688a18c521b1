import { describe, expect, it } from 'vitest';
import { brokerPriority, decodeJobId, encodeJobId, queueName } from './topology.js';

describe('topology', () => {
  it('maps job priorities onto 10 broker levels, keeping their order', () => {
    expect([-100, -50, 0, 50, 100].map(brokerPriority)).toEqual([0, 2, 5, 7, 9]);
    expect(brokerPriority(1000)).toBe(9);
  });

  it('round-trips a job id and refuses anything else', () => {
    expect(decodeJobId(encodeJobId('12345').toString())).toBe('12345');
    expect(decodeJobId('{"id":1}')).toBeNull();
    expect(decodeJobId('0')).toBeNull();
    expect(() => encodeJobId('x')).toThrow(/jobId/);
  });

  it('prefixes queues with the namespace', () => {
    expect(queueName('tenant_a', 'email.send')).toBe('tenant_a.fn.email.send');
  });
});
