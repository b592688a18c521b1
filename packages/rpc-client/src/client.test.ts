/**
 * The client's own checks, before anything is sent: a bad option or argument is a ValidationError
 * naming its field. The client here has never connected (its URL has nobody listening), so an
 * argument that got past the checks would wait for a connection instead of failing at once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '@drover/core';
import { RpcClient } from './client.js';

const unconnected = (): RpcClient => new RpcClient({ url: 'tcp://127.0.0.1:1', who: 'someone', token: 't', requestTimeoutMs: 60_000 });

async function fieldOf(promise: Promise<unknown>): Promise<string> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).field;
}

describe('RpcClient checks', () => {
  it('refuses bad options naming the field', () => {
    expect(() => new RpcClient({ url: 'tcp://127.0.0.1:1', who: '', token: 't' })).toThrow(/^who: /);
    expect(() => new RpcClient({ url: 'tcp://127.0.0.1:1', who: 'a' })).toThrow(/^token: /);
    expect(() => new RpcClient({ url: 'nope', who: 'a', token: 't' })).toThrow(/^url: /);
    // A client certificate needs no token.
    expect(() => new RpcClient({ url: 'tls://127.0.0.1:1', who: 'a', method: 'clientcert' })).not.toThrow();
  });

  it('refuses any non-object inargs, empty funcname, bad timeout, job id or filter before sending anything', async () => {
    const client = unconnected();
    const notObject = fc.oneof(fc.constant(null), fc.array(fc.anything()), fc.string(), fc.double(), fc.boolean(), fc.constant(undefined));
    await fc.assert(
      fc.asyncProperty(notObject, async (inargs) => {
        expect(await fieldOf(client.call('f', inargs as never))).toBe('inargs');
        expect(await fieldOf(client.callNb('f', inargs as never))).toBe('inargs');
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.double({ max: -Number.MIN_VALUE }), fc.constant(Number.NaN), fc.constant(Infinity)), async (timeoutS) => {
        expect(await fieldOf(client.call('f', {}, { timeoutS }))).toBe('timeoutS');
      }),
      { numRuns: 100 },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string().filter((s) => !/^[1-9][0-9]{0,18}$/.test(s)), fc.integer({ max: 0 }), fc.double({ noInteger: true })), async (id) => {
        expect(await fieldOf(client.getJobStatus(id))).toBe('jobId');
      }),
      { numRuns: 300 },
    );
    expect(await fieldOf(client.call('', {}))).toBe('funcname');
    expect(await fieldOf(client.findJobs({}))).toBe('filter');
    expect(await fieldOf(client.findJobs([] as never))).toBe('filter');
    expect(await fieldOf(client.work('', () => ({})))).toBe('actionname');
    expect(await fieldOf(client.work('f', 'not a function' as never))).toBe('handler');
    expect(await fieldOf(client.work('f', () => ({}), { slots: 0 }))).toBe('slots');
    expect(await fieldOf(client.work('f', () => ({}), { slotgroup: 'nope' }))).toBe('slotgroup');
    expect(await fieldOf(client.createSlotGroup('_x', 2))).toBe('name');
    expect(await fieldOf(client.createSlotGroup('x', 0))).toBe('slots');
    expect(await fieldOf(client.withdraw('never-worked'))).toBe('actionname');
    await client.close();
  });
});
