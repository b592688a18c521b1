import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NetstringDecoder, NetstringError, encodeNetstring } from './netstring.js';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');
const texts = (frames: Buffer[]): string[] => frames.map((f) => f.toString('utf8'));

describe('netstring decoder', () => {
  it('decodes frames, the empty one included, several per chunk', () => {
    const decoder = new NetstringDecoder(100);
    expect(texts(decoder.push(bytes('5:hello,0:,3:abc,')))).toEqual(['hello', '', 'abc']);
    expect(decoder.midFrame).toBe(false);
  });

  it('decodes a frame split at every byte', () => {
    const decoder = new NetstringDecoder(100);
    const frames: Buffer[] = [];
    for (const byte of encodeNetstring('{"a":"é"}')) frames.push(...decoder.push(Buffer.from([byte])));
    expect(texts(frames)).toEqual(['{"a":"é"}']);
  });

  it('counts the length in bytes, not characters', () => {
    expect(encodeNetstring('é').toString('utf8')).toBe('2:é,');
  });

  it('knows when a stream stops mid-frame', () => {
    const decoder = new NetstringDecoder(100);
    decoder.push(bytes('5:he'));
    expect(decoder.midFrame).toBe(true);
  });

  it.each([
    ['a leading zero', '05:hello,', /leading zero/],
    ['a non-digit in the length', '5a:hello,', /decimal digits/],
    ['a sign', '-5:hello,', /decimal digits/],
    ['no length', ':hello,', /must start with its length/],
    ['a missing comma', '5:hello;', /expected ","/],
    ['a short payload', '6:hello,x', /expected ","/],
    ['whitespace before the length', ' 5:hello,', /decimal digits/],
  ])('refuses %s', (_what, input, message) => {
    const decoder = new NetstringDecoder(100);
    expect(() => decoder.push(bytes(input))).toThrow(message);
  });

  it('refuses a length over the limit as soon as its digits say so, before any payload', () => {
    const decoder = new NetstringDecoder(1000);
    expect(decoder.push(bytes('1000:'))).toEqual([]);
    const other = new NetstringDecoder(1000);
    expect(() => other.push(bytes('1001'))).toThrow(/more than 1000 bytes/);
    // An endless run of digits is cut off at the first one past the limit.
    expect(() => new NetstringDecoder(1000).push(bytes('9'.repeat(100_000)))).toThrow(NetstringError);
  });

  it('stays broken after a malformed frame', () => {
    const decoder = new NetstringDecoder(100);
    expect(() => decoder.push(bytes('x'))).toThrow(NetstringError);
    expect(() => decoder.push(bytes('1:a,'))).toThrow(/already held a malformed frame/);
  });

  it('round-trips any payloads in any chunking', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1 }), (payloads, cuts) => {
        const stream = Buffer.concat(payloads.map((p) => encodeNetstring(p)));
        const decoder = new NetstringDecoder(1 << 20);
        const out: Buffer[] = [];
        let at = 0;
        for (let i = 0; at < stream.length; i++) {
          const size = cuts[i % cuts.length]!;
          out.push(...decoder.push(stream.subarray(at, at + size)));
          at += size;
        }
        expect(texts(out)).toEqual(payloads);
      }),
    );
  });
});
