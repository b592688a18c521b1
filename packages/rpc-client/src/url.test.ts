import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '@drover/core';
import { parseApiUrl } from './url.js';

describe('parseApiUrl', () => {
  it('reads the four schemes, with the defaults of port and path', () => {
    expect(parseApiUrl('tcp://127.0.0.1:7000')).toEqual({ transport: 'tcp', host: '127.0.0.1', port: 7000 });
    expect(parseApiUrl('tcp://api.example')).toEqual({ transport: 'tcp', host: 'api.example', port: 6522 });
    expect(parseApiUrl('tcp://[::1]:6522')).toEqual({ transport: 'tcp', host: '::1', port: 6522 });
    expect(parseApiUrl('tls://api.example:6523')).toEqual({ transport: 'tls', host: 'api.example', port: 6523 });
    expect(parseApiUrl('ws://127.0.0.1:8080/rpc')).toEqual({ transport: 'websocket', url: 'ws://127.0.0.1:8080/rpc' });
    expect(parseApiUrl('ws://127.0.0.1:8080')).toEqual({ transport: 'websocket', url: 'ws://127.0.0.1:8080/rpc' });
    expect(parseApiUrl('wss://api.example/custom')).toEqual({ transport: 'websocket', url: 'wss://api.example/custom' });
  });

  it.each([
    ['', 'must be a URL'],
    ['127.0.0.1:6522', 'is not a URL'],
    ['not a url', 'is not a URL'],
    ['http://127.0.0.1:8080', 'unknown scheme http:'],
    ['tls://api.example', 'needs a port'],
    ['tcp://127.0.0.1:6522/rpc', 'has no path'],
  ])('refuses %j naming url', (raw, problem) => {
    expect(() => parseApiUrl(raw)).toThrow(ValidationError);
    expect(() => parseApiUrl(raw)).toThrow(new RegExp(`^url: .*${problem}`));
  });

  it('answers any input with an address or a ValidationError on url, never anything else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.constantFrom('tcp://', 'tls://', 'ws://', 'wss://').chain((s) => fc.string().map((t) => s + t)), fc.anything()), (raw) => {
        try {
          const a = parseApiUrl(raw);
          expect(['tcp', 'tls', 'websocket']).toContain(a.transport);
        } catch (err) {
          expect(err).toBeInstanceOf(ValidationError);
          expect((err as ValidationError).field).toBe('url');
        }
      }),
      { numRuns: 2_000 },
    );
    // Generating 2,000 URLs and arbitrary values takes about a second alone, and over vitest's
    // 5 s default on two cores busy with the integration suite.
  }, 30_000);
});
