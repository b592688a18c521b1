import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { authorizes, credentialOf, validateCertificateCn, validateClientName, validateScopePatterns } from './clients.js';
import { ValidationError } from './errors.js';

const client = (call: string[], work: string[] = [], admin = false) => ({ call, work, admin });

describe('authorizes', () => {
  it('matches call and work patterns as globs over whole function names', () => {
    const c = client(['report.*', 'mail.{send,bounce}', 'exact'], ['render.?']);
    expect(authorizes(c, 'call', 'report.daily')).toBe(true);
    expect(authorizes(c, 'call', 'report.daily.pdf')).toBe(true);
    expect(authorizes(c, 'call', 'xreport.daily')).toBe(false);
    expect(authorizes(c, 'call', 'mail.send')).toBe(true);
    expect(authorizes(c, 'call', 'mail.open')).toBe(false);
    expect(authorizes(c, 'call', 'exact')).toBe(true);
    expect(authorizes(c, 'call', 'exactly')).toBe(false);
    expect(authorizes(c, 'work', 'render.a')).toBe(true);
    expect(authorizes(c, 'work', 'render.ab')).toBe(false);
    expect(authorizes(c, 'call', 'render.a')).toBe(false);
    expect(authorizes(c, 'admin')).toBe(false);
    expect(authorizes(c, 'call')).toBe(false);
    // `.` and `..` are function names, not path segments.
    expect(authorizes(client(['*']), 'call', '.')).toBe(true);
    expect(authorizes(client(['*']), 'call', '..')).toBe(true);
    expect(authorizes(client(['.*']), 'call', '..')).toBe(true);
    expect(authorizes(client(['[^x]*']), 'call', 'abc')).toBe(true);
    expect(authorizes(client(['[^x]*']), 'call', 'xyz')).toBe(false);
  });

  it('lets * match every function name, and an admin do anything', () => {
    fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/), (name) => authorizes(client(['*']), 'call', name) && !authorizes(client(['*']), 'work', name)));
    expect(authorizes(client([], [], true), 'admin')).toBe(true);
    expect(authorizes(client([], [], true), 'work', 'anything')).toBe(true);
  });
});

describe('credentialOf', () => {
  it('reads who from a generated token, and who:token otherwise', () => {
    const secret = 'ab'.repeat(32);
    expect(credentialOf(`drv_reports_${secret}`)).toEqual({ who: 'reports', token: `drv_reports_${secret}` });
    expect(credentialOf(`drv_my_client.v2_${secret}`)).toEqual({ who: 'my_client.v2', token: `drv_my_client.v2_${secret}` });
    expect(credentialOf('legacy:s3cret:with:colons')).toEqual({ who: 'legacy', token: 's3cret:with:colons' });
    expect(credentialOf('drv_reports_short')).toBeNull();
    expect(credentialOf(':nothing')).toBeNull();
    expect(credentialOf('plain')).toBeNull();
  });
});

describe('validation of client fields', () => {
  it('names the field of a bad name, pattern or CN', () => {
    for (const bad of ['', 'a b', 'a:b', '-lead', 'x'.repeat(64), 7]) expect(() => validateClientName(bad)).toThrow(ValidationError);
    expect(validateClientName('local-admin')).toBe('local-admin');
    expect(() => validateScopePatterns(['ok.*', '[oops'], 'call')).toThrow(/^call\[1\]: /);
    expect(() => validateScopePatterns(['a/b'], 'work')).toThrow(/^work\[0\]: /);
    expect(() => validateScopePatterns('*', 'call')).toThrow(/^call: /);
    expect(() => validateScopePatterns(['!secret.*'], 'call')).toThrow(/^call\[0\]: .*no negation/);
    expect(validateScopePatterns(['[^x]*'], 'call')).toEqual(['[^x]*']);
    expect(validateScopePatterns(['a.*', 'a.*', 'b'], 'call')).toEqual(['a.*', 'b']);
    expect(() => validateCertificateCn('bad\ncn')).toThrow(/^certificateCn: /);
    expect(validateCertificateCn('worker-1.example')).toBe('worker-1.example');
  });
});
