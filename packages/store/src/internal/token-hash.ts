/**
 * Tokens kept as slow hashes: scrypt (node:crypto) with a random salt per hash and its parameters
 * stored beside it, `scrypt$N$r$p$<salt>$<hash>` (base64), so a later cost increase verifies old
 * hashes and writes new ones without a migration. Verification compares in constant time.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * N = 2^14, r = 8, p = 1: 16 MiB and some tens of milliseconds per hash here, scrypt's
 * interactive-login setting (and Node's default). An offline guess costs the same, which is what
 * makes a stolen table of hashes of chosen tokens expensive to attack.
 */
const PARAMS = { N: 16_384, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Twice what N and r need (128·N·r = 16 MiB), so Node's default 32 MiB cap never refuses a stored hash. */
const MAX_MEM = 64 * 1024 * 1024;
/** Parameters read back from a stored hash are bounded: a corrupt row must not ask for gigabytes. */
const MAX_N = 1 << 20;

function derive(token: string, salt: Buffer, options: ScryptOptions, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(token, salt, length, { ...options, maxmem: MAX_MEM }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** The stored form of a token's hash, with a fresh salt. */
export async function hashToken(token: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(token, salt, PARAMS, KEY_BYTES);
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface Parsed {
  options: ScryptOptions;
  salt: Buffer;
  key: Buffer;
}

function parse(stored: string): Parsed | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0) || N > MAX_N || r > 32 || p > 16) return null;
  const salt = Buffer.from(parts[4]!, 'base64');
  const key = Buffer.from(parts[5]!, 'base64');
  if (salt.length === 0 || key.length === 0) return null;
  return { options: { N, r, p }, salt, key };
}

/**
 * A hash no token matches, of the same cost: verifying against it when the client is unknown
 * takes as long as a wrong token, so timing does not tell the two apart.
 */
const DECOY: Parsed = { options: PARAMS, salt: randomBytes(SALT_BYTES), key: randomBytes(KEY_BYTES) };

/**
 * Whether `token` is the one `stored` was made from; `stored` null (no such client) costs the
 * same and answers false. A stored value this code cannot read answers false.
 */
export async function verifyTokenHash(token: string, stored: string | null): Promise<boolean> {
  const parsed = stored === null ? null : parse(stored);
  const target = parsed ?? DECOY;
  const key = await derive(token, target.salt, target.options, target.key.length);
  return timingSafeEqual(key, target.key) && parsed !== null;
}

/** A fast digest of a token, for the cache of tokens already verified (see clients.ts). */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64');
}
