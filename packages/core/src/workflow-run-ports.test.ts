import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fieldOf } from './field-of.test-support.js';
import { validateWorkflowTag } from './workflow-run-ports.js';

describe('validateWorkflowTag', () => {
  it('takes none (null, undefined) or a string of 1 to 200 characters', () => {
    expect(validateWorkflowTag(undefined)).toBeNull();
    expect(validateWorkflowTag(null)).toBeNull();
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 200 }).filter((s) => !s.includes('\u0000')), (tag) => validateWorkflowTag(tag) === tag));
  });

  it('refuses anything else, naming the field it is given', () => {
    const bad = fc.oneof(fc.constant(''), fc.string({ minLength: 201, maxLength: 300 }), fc.integer(), fc.boolean(), fc.object(), fc.array(fc.string()), fc.constant('x\u0000'));
    fc.assert(fc.property(bad, (tag) => fieldOf(() => validateWorkflowTag(tag)) === 'workflowTag' && fieldOf(() => validateWorkflowTag(tag, 'vtag')) === 'vtag'));
  });
});
