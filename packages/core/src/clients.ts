/**
 * What an API client may do, and the shape of what names it: its `who`, its scope patterns and
 * its certificate CN. Patterns are globs on function names, matched by picomatch (`*` and `?`
 * within a name, `{a,b}` alternatives, `[a-z]` and `[^a-z]` classes); function names hold no `/`, so `*`
 * spans a whole name, dots included: `report.*` matches `report.daily`, `*` matches everything.
 */
import picomatch from 'picomatch';
import { ValidationError } from './errors.js';
import type { ApiClient } from './client-ports.js';

/** A client's name: it is the first part of a generated token and of `who:token`, so no `:` and no spaces. */
export const CLIENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/**
 * A scope pattern: the characters of a function name, plus glob syntax (`[^a-c]` negates a
 * class). No `!`: picomatch reads a leading one as negating the whole pattern, and a scope lists
 * what a client may do; "all but" would silently grant every function added later.
 */
const SCOPE_PATTERN = /^[A-Za-z0-9_.:*?{},[\]^-]{1,200}$/;

/** A CN is free text in a certificate; 64 characters is X.520's upper bound for a common name. */
const CN_MAX = 64;

/** What a client asks to do: call (enqueue) a function, work (announce) it, or administer. */
export type ClientScope = 'call' | 'work' | 'admin';

/** Compiled matchers, by pattern: a client's patterns are checked on every request. */
const matchers = new Map<string, (name: string) => boolean>();
/** Enough for every pattern of a large registry; the cache is cleared rather than grown past it. */
const MATCHER_CACHE_MAX = 10_000;

/**
 * picomatch matches paths: even with `dot`, `*` never matches the segments `.` and `..`, which
 * are valid function names. Pattern and name are both matched with this letter in front, so
 * that no name is a path segment of its own.
 */
const ANCHOR = 'f';

function matcher(pattern: string): (name: string) => boolean {
  let match = matchers.get(pattern);
  if (!match) {
    if (matchers.size >= MATCHER_CACHE_MAX) matchers.clear();
    // `dot`: a name starting with a dot is still a name; `*` must not skip it as a hidden file.
    const compiled = picomatch(ANCHOR + pattern, { dot: true });
    match = (name) => compiled(ANCHOR + name);
    matchers.set(pattern, match);
  }
  return match;
}

/**
 * Whether the client may do `scope` (on `funcname`, for call and work). An admin may do anything;
 * otherwise `call` and `work` need a matching pattern, and `admin` is refused.
 */
export function authorizes(client: Pick<ApiClient, 'admin' | 'call' | 'work'>, scope: ClientScope, funcname?: string): boolean {
  if (client.admin) return true;
  if (scope === 'admin' || funcname === undefined) return false;
  return client[scope].some((pattern) => matcher(pattern)(funcname));
}

/** Checks a client name; returns it. */
export function validateClientName(who: unknown, field = 'who'): string {
  if (typeof who !== 'string' || !CLIENT_NAME_PATTERN.test(who)) {
    throw new ValidationError(field, 'must be 1 to 63 characters of A-Z, a-z, 0-9, _, . and -, starting with a letter or digit');
  }
  return who;
}

/** Checks a list of scope patterns (each must compile); returns them, without duplicates. */
export function validateScopePatterns(patterns: unknown, field: string): string[] {
  if (!Array.isArray(patterns)) throw new ValidationError(field, 'must be an array of patterns');
  patterns.forEach((pattern: unknown, i) => {
    if (typeof pattern !== 'string' || !SCOPE_PATTERN.test(pattern)) {
      throw new ValidationError(`${field}[${i}]`, 'must be a glob on function names: 1 to 200 characters of A-Z, a-z, 0-9, _ . : - and * ? { } , [ ] ^ (no negation with !: list what the client may use)');
    }
    try {
      picomatch.makeRe(pattern, { dot: true, strictBrackets: true });
    } catch (err) {
      throw new ValidationError(`${field}[${i}]`, `is not a valid pattern: ${(err as Error).message}`, { cause: err });
    }
  });
  return [...new Set(patterns as string[])];
}

/** Checks a certificate CN: printable, no control characters, at most 64 characters. */
export function validateCertificateCn(cn: unknown, field = 'certificateCn'): string {
  // eslint-disable-next-line no-control-regex
  if (typeof cn !== 'string' || cn.length === 0 || cn.length > CN_MAX || /[\u0000-\u001f\u007f]/.test(cn)) {
    throw new ValidationError(field, `must be 1 to ${CN_MAX} printable characters`);
  }
  return cn;
}

/** A generated token names its client: `drv_<who>_<64 hex digits>`, so its bearer needs nothing else. */
export const GENERATED_TOKEN_PREFIX = 'drv_';
const GENERATED_TOKEN = /^drv_([A-Za-z0-9][A-Za-z0-9_.-]{0,62})_[0-9a-f]{64}$/;

/**
 * The client an HTTP credential claims to be, and the token to verify: a generated token names its
 * client (`drv_<who>_<secret>`); any other token is sent as `<who>:<token>` (a name holds no `:`).
 * Null when the credential has neither form.
 */
export function credentialOf(credential: string): { who: string; token: string } | null {
  const colon = credential.indexOf(':');
  if (colon > 0) return { who: credential.slice(0, colon), token: credential.slice(colon + 1) };
  const generated = GENERATED_TOKEN.exec(credential);
  return generated ? { who: generated[1]!, token: credential } : null;
}
