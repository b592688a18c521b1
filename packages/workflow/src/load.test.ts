import { describe, expect, it } from 'vitest';
import { createTypeChecker } from './expr/types.js';
import { loadJcl } from './load.js';

const load = (text: string) => loadJcl([{ fileName: 'a.ac', text }], { stored: { lookup: () => null }, types: createTypeChecker({}) });

describe('loadJcl', () => {
  it('checks an action unit\'s declarations as a workflow\'s: unknown types, names twice, config lines', () => {
    expect(() => load('action a:\nin:\n\tx nosuchtype\nout:\n\ty number\n')).toThrow(/a line 3 column 2: unknown type nosuchtype for input x/);
    expect(() => load('action a:\nin:\n\tx number\n\tx string\nout:\n\ty number\n')).toThrow(/duplicate input x/);
    expect(() => load('action a:\nin:\n\tx number\nout:\n\ty number\nconfig:\n\tretry = a.x\n')).toThrow(/config takes only `key = literal` lines/);
    expect(load('action a:\nin:\n\tx number 1\nout:\n\ty number optional\n')[0]!.signature).toEqual({
      name: 'a', kind: 'action', in: [{ name: 'x', type: 'number', optional: true }], out: [{ name: 'y', type: 'number', optional: true }],
    });
  });
});
