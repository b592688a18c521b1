import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JCL_GRAMMAR } from './jcl-grammar.js';

describe('the embedded grammar', () => {
  it('is jcl.peggy as it stands (run `npm run grammar -w @drover/workflow` after editing it)', () => {
    expect(JCL_GRAMMAR).toBe(readFileSync(new URL('jcl.peggy', import.meta.url), 'utf8'));
  });
});
