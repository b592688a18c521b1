import { describe, expect, it } from 'vitest';
import { taskEnd } from './outargs.js';

describe('taskEnd', () => {
  it('reads outargs whose only key is error as a failure: a class other than fatal is a retried attempt; fatal and no class fail for good', () => {
    expect(taskEnd({ error: { msg: 'later', class: 'soft' } })).toEqual({ kind: 'fail', error: 'later' });
    expect(taskEnd({ error: 'boom' })).toEqual({ kind: 'fatal', error: 'boom' });
    expect(taskEnd({ error: { msg: 'never', class: 'fatal' } })).toEqual({ kind: 'fatal', error: 'never' });
    expect(taskEnd({ error: { msg: 'plain' } })).toEqual({ kind: 'fatal', error: 'plain' });
    expect(taskEnd({ error: { msg: 'odd', class: 'whatever' } })).toEqual({ kind: 'fail', error: 'odd' });
    expect(taskEnd({ error: { msg: 'odd', class: 3 } })).toEqual({ kind: 'fatal', error: 'odd' });
    expect(taskEnd({ error: { code: 3 } })).toEqual({ kind: 'fatal', error: '{"code":3}' });
    expect(taskEnd({ error: 7 })).toEqual({ kind: 'fatal', error: '7' });
  });

  it('reads anything else as the result, error key included when it is not alone', () => {
    expect(taskEnd({ sum: 3 })).toEqual({ kind: 'complete', result: { sum: 3 } });
    expect(taskEnd({ error: 'partial', sum: 3 })).toEqual({ kind: 'complete', result: { error: 'partial', sum: 3 } });
    expect(taskEnd({})).toEqual({ kind: 'complete', result: {} });
  });
});
