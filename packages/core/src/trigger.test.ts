import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import { validateNewTrigger, type NewTrigger } from './trigger.js';

describe('validateNewTrigger', () => {
  it('names a required field left out, and a field a trigger does not have', () => {
    const refusal = (input: unknown): ValidationError => {
      try {
        validateNewTrigger(input as NewTrigger);
      } catch (err) {
        if (err instanceof ValidationError) return err;
        throw err;
      }
      throw new Error('expected a refusal');
    };
    expect(refusal({ spec: '@every 1h' })).toMatchObject({ field: 'funcname', message: 'funcname: is required' });
    expect(refusal({ funcname: 'a.b' })).toMatchObject({ field: 'spec', message: 'spec: is required' });
    expect(refusal({ spec: '@every 1h', funcname: 'a.b', colour: 'red' })).toMatchObject({ field: 'colour' });
    expect(validateNewTrigger({ spec: '@every 1h', funcname: 'a.b' })).toMatchObject({ type: 'every', enabled: true });
  });

  it('refuses a debounce longer than its column holds, naming the field', () => {
    expect(() => validateNewTrigger({ spec: '@event io.cozy.files', funcname: 'a.b', debounce: '720h' })).toThrow(/^debounce: must be at most 24 days/);
    expect(validateNewTrigger({ spec: '@event io.cozy.files', funcname: 'a.b', debounce: '500h' })).toMatchObject({ debounceMs: 500 * 3_600_000 });
  });
});
