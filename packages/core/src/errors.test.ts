import { describe, expect, it } from 'vitest';
import { InfrastructureError, ValidationError, isRetryableInfrastructureError } from './errors.js';

describe('isRetryableInfrastructureError', () => {
  it.each([
    ['a connection failure (08006)', { code: '08006' }],
    ['a serialization failure', { code: '40001' }],
    ['a deadlock', { code: '40P01' }],
    ['an admin shutdown (57P01)', { code: '57P01' }],
    ['too many connections (53300)', { code: '53300' }],
    ['an AMQP connection-forced close', { code: 320 }],
    ['a refused socket', { code: 'ECONNREFUSED' }],
    ['a statement cancelled by statement_timeout (57014)', { code: '57014' }],
    ['a session ended by idle_in_transaction_session_timeout (25P03)', { code: '25P03' }],
    ["pg's query_timeout", { message: 'Query read timeout' }],
    ["pg-pool's connection timeout", { message: 'timeout exceeded when trying to connect' }],
    ["pg's connection timeout", { message: 'Connection terminated due to connection timeout' }],
  ])('retries %s', (_what, fields) => {
    expect(isRetryableInfrastructureError(Object.assign(new Error('x'), fields))).toBe(true);
  });

  it.each([
    ['a unique violation', { code: '23505' }],
    ['a syntax error', { code: '42601' }],
    ['an AMQP not-found', { code: 404 }],
  ])('does not retry %s', (_what, fields) => {
    expect(isRetryableInfrastructureError(Object.assign(new Error('x'), fields))).toBe(false);
  });

  it('looks through the cause chain', () => {
    const cause = Object.assign(new Error('reset'), { code: 'ECONNRESET' });
    expect(isRetryableInfrastructureError(new Error('claim failed', { cause }))).toBe(true);
    expect(isRetryableInfrastructureError(new InfrastructureError('broker down'))).toBe(true);
    expect(isRetryableInfrastructureError(new ValidationError('funcname', 'bad'))).toBe(false);
  });
});
