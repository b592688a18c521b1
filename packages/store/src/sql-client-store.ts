/**
 * The registry of API clients over any {@link SqlExecutor}, so PostgreSQL and the embedded PGlite
 * run the same statements. Tokens are generated here (or given), hashed with scrypt and never
 * kept in the clear; see {@link ApiClientStore} for each operation's contract.
 */
import { randomBytes } from 'node:crypto';
import {
  GENERATED_TOKEN_PREFIX,
  ValidationError,
  validateCertificateCn,
  validateClientName,
  validateScopePatterns,
  type ApiClient,
  type ApiClientStore,
  type IssuedToken,
  type NewApiClient,
} from '@drover/core';
import type { SqlExecutor } from './internal/executor.js';
import { SQL } from './internal/statements.js';
import { hashToken, tokenDigest, verifyTokenHash } from './internal/token-hash.js';

/** 32 random bytes: far beyond guessing, whatever the hash. */
const SECRET_BYTES = 32;
/** A chosen token (e.g. one a JobCenter client already uses) is at least this long. */
const TOKEN_MIN = 8;
/** Longer than any real token; bounds the work a caller can hand the hash. */
const TOKEN_MAX = 1024;
/**
 * Verified (hash, token) pairs kept in memory, so that a client's every request does not pay a
 * slow hash: a hit still reads the client's row, and the row's current hash is part of the key,
 * so a rotated or removed client's old token misses at once. Only successes are kept.
 */
const VERIFIED_CACHE_MAX = 1_000;

interface ClientRow {
  who: string;
  call_patterns: string[];
  work_patterns: string[];
  admin: boolean;
  certificate_cn: string | null;
  created_at: Date;
  rotated_at: Date | null;
}

function toClient(row: ClientRow): ApiClient {
  return {
    who: row.who,
    call: [...row.call_patterns],
    work: [...row.work_patterns],
    admin: row.admin,
    certificateCn: row.certificate_cn,
    createdAt: new Date(row.created_at),
    rotatedAt: row.rotated_at === null ? null : new Date(row.rotated_at),
  };
}

/** A chosen token: printable, no spaces (it travels in an HTTP header), of a sane length. */
function checkChosenToken(token: unknown, field = 'token'): string {
  // eslint-disable-next-line no-control-regex
  if (typeof token !== 'string' || token.length < TOKEN_MIN || token.length > TOKEN_MAX || /[\s\u0000-\u001f\u007f]/.test(token)) {
    throw new ValidationError(field, `must be ${TOKEN_MIN} to ${TOKEN_MAX} characters with no spaces or control characters`);
  }
  return token;
}

function generateToken(who: string): string {
  return `${GENERATED_TOKEN_PREFIX}${who}_${randomBytes(SECRET_BYTES).toString('hex')}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const NEW_CLIENT_FIELDS = new Set(['who', 'token', 'call', 'work', 'admin', 'certificateCn']);

/** The API clients of one namespace. */
export class SqlClientStore implements ApiClientStore {
  readonly #verified = new Map<string, true>();

  constructor(
    private readonly db: SqlExecutor,
    /** The store's idea of now: an injected clock's time, or null for the database's. */
    private readonly now: () => Date | null = () => null,
  ) {}

  async add(input: NewApiClient): Promise<IssuedToken> {
    if (!isObject(input)) throw new ValidationError('client', 'must be an object with at least a who');
    const unknown = Object.keys(input).find((k) => !NEW_CLIENT_FIELDS.has(k));
    if (unknown !== undefined) throw new ValidationError(unknown, 'is not a field of a client (who, token, call, work, admin, certificateCn)');
    const who = validateClientName(input.who);
    const token = input.token === undefined ? generateToken(who) : checkChosenToken(input.token);
    const call = validateScopePatterns(input.call ?? [], 'call');
    const work = validateScopePatterns(input.work ?? [], 'work');
    if (input.admin !== undefined && typeof input.admin !== 'boolean') throw new ValidationError('admin', 'must be true or false');
    const cn = input.certificateCn === undefined || input.certificateCn === null ? null : validateCertificateCn(input.certificateCn);
    const rows = await this.db.query<ClientRow>(SQL.insertClient, [who, await hashToken(token), call, work, input.admin ?? false, cn, this.now()]);
    if (rows[0]) return { client: toClient(rows[0]), token };
    // ON CONFLICT DO NOTHING: say which of the two unique values was taken.
    if ((await this.db.query(SQL.clientByWho, [who])).length > 0) throw new ValidationError('who', `a client named ${who} exists already`);
    throw new ValidationError('certificateCn', `another client has the certificate CN ${cn ?? ''}`);
  }

  async list(): Promise<ApiClient[]> {
    return (await this.db.query<ClientRow>(SQL.listClients, [])).map(toClient);
  }

  async remove(who: string): Promise<boolean> {
    return (await this.db.query(SQL.deleteClient, [validateClientName(who)])).length > 0;
  }

  async rotate(who: string, token?: string): Promise<IssuedToken | null> {
    const name = validateClientName(who);
    const fresh = token === undefined ? generateToken(name) : checkChosenToken(token);
    const rows = await this.db.query<ClientRow>(SQL.rotateClient, [name, await hashToken(fresh), this.now()]);
    return rows[0] ? { client: toClient(rows[0]), token: fresh } : null;
  }

  async verifyToken(who: string, token: string): Promise<ApiClient | null> {
    // Input from an unauthenticated caller: anything malformed is simply not a match. A name that
    // cannot exist still pays the hash, as an unknown one does.
    const wellFormed = typeof who === 'string' && typeof token === 'string' && token.length <= TOKEN_MAX;
    const name = wellFormed ? who : '';
    const text = typeof token === 'string' ? token.slice(0, TOKEN_MAX) : '';
    let row: (ClientRow & { token_hash: string }) | undefined;
    try {
      row = wellFormed ? (await this.db.query<ClientRow & { token_hash: string }>(SQL.clientByWho, [validateClientName(name)]))[0] : undefined;
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
    }
    if (row) {
      const key = `${row.token_hash}\n${tokenDigest(text)}`;
      if (this.#verified.has(key)) return toClient(row);
      if (await verifyTokenHash(text, row.token_hash)) {
        if (this.#verified.size >= VERIFIED_CACHE_MAX) this.#verified.delete(this.#verified.keys().next().value!);
        this.#verified.set(key, true);
        return toClient(row);
      }
      return null;
    }
    await verifyTokenHash(text, null);
    return null;
  }

  async byCertificateCn(cn: string): Promise<ApiClient | null> {
    if (typeof cn !== 'string' || cn.length === 0) return null;
    const rows = await this.db.query<ClientRow>(SQL.clientByCn, [cn]);
    return rows[0] ? toClient(rows[0]) : null;
  }
}
