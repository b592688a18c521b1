import { describe, expect, it } from 'vitest';
import { decodeJobId, encodeJobId } from './message.js';

describe('message codec', () => {
  it('round-trips a job id and refuses anything else', () => {
    expect(decodeJobId(encodeJobId('12345'))).toBe('12345');
    expect(decodeJobId(encodeJobId('9223372036854775807'))).toBe('9223372036854775807');
    expect(decodeJobId('{"id":1}')).toBeNull();
    expect(decodeJobId('0')).toBeNull();
    expect(decodeJobId('012')).toBeNull();
    expect(() => encodeJobId('x')).toThrow(/jobId/);
    expect(() => encodeJobId('-1')).toThrow(/jobId/);
  });
});
