/**
 * Property-based bad input over the HTTP API, on a real PostgreSQL store: thousands of generated
 * requests, each answered with a 4xx naming the field or a success, never a 5xx; a refusal
 * changes nothing (job counts, and the targeted job's row, compared before and after), and a
 * success stores what was sent.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { JOB_STATES, silentLogger, unstorableTextReason } from '@drover/core';
import { useTestNamespace } from '@drover/testing';
import { createHttpApi } from '../src/index.js';
import { injectJson, type Answer } from './http-inject.js';

const ns = useTestNamespace();
let app: FastifyInstance;
let waitingId = '';

/** These tests are about input, so the requests carry an admin's token. */
let token = '';

beforeAll(async () => {
  token = (await ns.store.clients.add({ who: 'property-admin', admin: true })).token;
  app = createHttpApi({ store: ns.store, clients: ns.store.clients, logger: silentLogger });
  await app.ready();
  waitingId = (await ns.store.insert({ funcname: 'prop.waiting', runAfter: '2040-01-01T00:00:00Z' })).id;
});
afterAll(async () => {
  await app.close();
});

const request = (method: 'GET' | 'POST', url: string, payload?: string, contentType?: string): Promise<Answer> =>
  injectJson(app, method, url, { payload, token, contentType });

/** Counts per function and state: any write shows here. */
const snapshot = async (): Promise<string> => JSON.stringify(await ns.store.counts());

/** JSON text with sorted keys, to compare what was sent with what jsonb gives back. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Expects a refusal naming `field` (exactly, or a path under it) with nothing changed. */
async function expectRefused(answer: Answer, field: string | RegExp, before: string): Promise<void> {
  expect(answer.status, JSON.stringify(answer.json)).toBeGreaterThanOrEqual(400);
  expect(answer.status).toBeLessThan(500);
  const named = answer.json.error?.field ?? '';
  if (typeof field === 'string') expect(named === field || named.startsWith(`${field}.`) || named.startsWith(`${field}[`), `${named} vs ${field}`).toBe(true);
  else expect(named).toMatch(field);
  expect(await snapshot()).toBe(before);
}

// --- generators ---------------------------------------------------------------------------

const LONE = fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF');
const NUL = fc.constant('\u0000');
/** Text PostgreSQL cannot hold: a NUL or a lone surrogate somewhere in ordinary text. */
const unstorable = fc.tuple(fc.string({ maxLength: 8 }), fc.oneof(NUL, LONE), fc.string({ maxLength: 8 })).map(([a, b, c]) => a + b + c)
  .filter((s) => unstorableTextReason(s) !== null);
const notString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.constant({}));
const notInt = fc.oneof(fc.double({ noInteger: true, noDefaultInfinity: true, noNaN: true }), fc.string({ maxLength: 5 }), fc.boolean(), fc.constant([]));
/** A value nested deeper than JSON_MAX_DEPTH (512), as text, so the generator itself never recurses. */
const deep = fc.integer({ min: 513, max: 2000 }).map((n) => `${'['.repeat(n)}1${']'.repeat(n)}`);
/** Dates PostgreSQL, or ISO 8601 with four-digit years, cannot take. */
const badDate = fc.oneof(
  fc.constantFrom('0000-01-01T00:00:00Z', '0001-01-01T00:30:00+01:00', '+010000-01-01T00:00:00Z', '2030-01-01', '2030-01-01T00:00:00', '1', 'tomorrow', '2030-13-01T00:00:00Z', ''),
  fc.integer(),
  fc.string({ maxLength: 12 }),
);

const storableString = (max: number) => fc.string({ minLength: 1, maxLength: max, unit: 'grapheme' }).filter((s) => unstorableTextReason(s) === null);
const validJob = fc.record(
  {
    funcname: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,40}$/),
    arg: fc.jsonValue({ maxDepth: 4 }).filter((v) => unstorableTextReason(JSON.stringify(v)) === null),
    priority: fc.integer({ min: -100, max: 100 }),
    coalesce: storableString(60),
    maxRetries: fc.integer({ min: 0, max: 1000 }),
    timeoutMs: fc.integer({ min: 1, max: 7 * 24 * 60 * 60_000 }),
    runAfter: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString()),
  },
  { requiredKeys: ['funcname'] },
);

/** One field of a valid job replaced by a bad value: [field, JSON text of the value]. */
const mutation: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.oneof(notString.map((v) => JSON.stringify(v)), fc.constantFrom('""', '"has space"', `"${'x'.repeat(201)}"`, '"a/b"'), unstorable.map((s) => JSON.stringify(s))).map((v) => ['funcname', v] as [string, string]),
  fc.oneof(
    unstorable.map((s) => JSON.stringify({ s })),
    unstorable.map((s) => JSON.stringify([1, s])),
    unstorable.map((s) => JSON.stringify({ [s]: 1 })),
    deep,
    fc.constantFrom('1e400', '-1e400', '{"n":1e999}', '[1,2e308]'),
  ).map((v) => ['arg', v] as [string, string]),
  ...(['uniqkey', 'coalesce'] as const).map((f) =>
    fc.oneof(notString.filter((v) => v !== null).map((v) => JSON.stringify(v)), fc.constant('""'), fc.constant(JSON.stringify('k'.repeat(256))), unstorable.map((s) => JSON.stringify(s))).map((v) => [f, v] as [string, string]),
  ),
  badDate.filter((d) => typeof d !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(d) || d.startsWith('0000') || d.startsWith('0001'))
    .map((v) => ['runAfter', JSON.stringify(v)] as [string, string]),
  fc.oneof(notInt.map((v) => JSON.stringify(v)), fc.integer({ min: 101 }).map(String), fc.integer({ max: -101 }).map(String), fc.constant('1e400')).map((v) => ['priority', v] as [string, string]),
  fc.oneof(notInt.map((v) => JSON.stringify(v)), fc.integer({ max: -1 }).map(String), fc.integer({ min: 1001 }).map(String)).map((v) => ['maxRetries', v] as [string, string]),
  fc.oneof(notInt.map((v) => JSON.stringify(v)), fc.integer({ max: 0 }).map(String), fc.constant(String(7 * 24 * 60 * 60_000 + 1))).map((v) => ['timeoutMs', v] as [string, string]),
  fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'runafter', 'id', 'state', 'jobs'), fc.stringMatching(/^[a-z]{1,10}$/))
    .filter((k) => !['funcname', 'arg', 'uniqkey', 'runAfter', 'priority', 'coalesce', 'maxRetries', 'timeoutMs', 'jobs'].includes(k))
    .map((k) => [k, '1'] as [string, string]),
);

/** A job's JSON text with `field` set to the raw JSON text `value` (so `1e400` and `__proto__` reach the server as written). */
function jobText(job: Record<string, unknown>, field: string, value: string): string {
  const rest = Object.fromEntries(Object.entries(job).filter(([k]) => k !== field));
  const body = JSON.stringify(rest);
  return `${body.slice(0, -1)}${body.length > 2 ? ',' : ''}${JSON.stringify(field)}:${value}}`;
}

// --- properties ---------------------------------------------------------------------------

describe('HTTP API, property-based', () => {
  it('refuses a job with one bad field, alone or in a batch, naming it and writing nothing', async () => {
    await fc.assert(
      fc.asyncProperty(validJob, mutation, fc.integer({ min: -1, max: 3 }), async (job, [field, value], batchAt) => {
        const before = await snapshot();
        const bad = jobText(job, field, value);
        if (batchAt < 0) return expectRefused(await request('POST', '/jobs', bad), field, before);
        const good = JSON.stringify({ ...job, funcname: 'prop.good' });
        const jobs = [...Array<string>(batchAt).fill(good), bad, good];
        return expectRefused(await request('POST', '/jobs', `{"jobs":[${jobs.join(',')}]}`), `jobs[${batchAt}].${field}`, before);
      }),
      { numRuns: 3000 },
    );
  });

  it('stores what was sent when a job is valid', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(validJob, fc.boolean(), async (job, keyed) => {
        const sent = keyed ? { ...job, uniqkey: `prop-${n++}-${Date.now()}` } : job;
        const answer = await request('POST', '/jobs', JSON.stringify(sent));
        expect(answer.status, JSON.stringify(answer.json)).toBe(201);
        const stored = (await request('GET', `/jobs/${answer.json.id as string}`)).json;
        expect(stored).toMatchObject({
          funcname: sent.funcname,
          priority: sent.priority ?? 0,
          coalesce: sent.coalesce ?? null,
          maxRetries: sent.maxRetries ?? 15,
          timeoutMs: sent.timeoutMs ?? null,
          uniqkey: 'uniqkey' in sent ? sent.uniqkey : null,
        });
        expect(canonical(stored.arg)).toBe(canonical(sent.arg === undefined ? null : sent.arg));
        if (sent.runAfter !== undefined && new Date(sent.runAfter) > new Date()) expect(stored.runAfter).toBe(sent.runAfter);
      }),
      { numRuns: 400 },
    );
  });

  it('refuses bad job-list filters, naming each as it was sent', async () => {
    const badFilter: fc.Arbitrary<[string, string]> = fc.oneof(
      fc.oneof(fc.string({ maxLength: 10 }).filter((s) => s.split(',').some((p) => !(JOB_STATES as readonly string[]).includes(p))), fc.constant('')).map((v) => [`state=${encodeURIComponent(v)}`, 'state'] as [string, string]),
      fc.oneof(fc.constantFrom('', 'a b', 'x'.repeat(201), '%00', '%ZZ'), fc.string({ minLength: 1, maxLength: 5 }).filter((s) => /[^A-Za-z0-9_.:-]/.test(s)).map(encodeURIComponent))
        .map((v) => [`funcname=${v}`, 'funcname'] as [string, string]),
      fc.constant(['funcname=a&funcname=b', 'funcname'] as [string, string]),
      fc.oneof(fc.constantFrom('', '{', '1e400', '{"a":"\\u0000"}', '["\\ud800"]', '{"\\udc00":1}'), deep).map((v) => [`arg=${encodeURIComponent(v)}`, 'arg'] as [string, string]),
      fc.oneof(fc.constantFrom('', '0', '1001', '-1', '1.5', '1e3', 'ten', '99999999999999999999'), fc.integer({ min: 1001 }).map(String)).map((v) => [`limit=${encodeURIComponent(v)}`, 'limit'] as [string, string]),
      fc.oneof(fc.constantFrom('', '0', '-1', '01', 'abc', '9223372036854775808', '1.0'), fc.string({ maxLength: 6 }).filter((s) => !/^[1-9]\d*$/.test(s))).map((v) => [`before=${encodeURIComponent(v)}`, 'before'] as [string, string]),
      fc.stringMatching(/^[a-z]{1,8}$/).filter((k) => !['state', 'funcname', 'arg', 'limit', 'before'].includes(k)).map((k) => [`${k}=1`, k] as [string, string]),
    );
    await fc.assert(
      fc.asyncProperty(badFilter, fc.boolean(), async ([query, field], withGood) => {
        const before = await snapshot();
        const url = `/jobs?${withGood ? 'limit=5&' : ''}${query}`;
        return expectRefused(await request('GET', url), field === 'funcname' && query.includes('%ZZ') ? /^(funcname|url)$/ : new RegExp(`^${field.replace(/[.[\]]/g, '\\$&')}(\\.|\\[|$)`), before);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses bad ids on every job route', async () => {
    const badId = fc.oneof(
      fc.constantFrom('0', '-1', '01', '1.5', 'abc', '9223372036854775808', '9'.repeat(300), ' 1', '1e3', '%20'),
      fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/^[1-9]\d{0,18}$/.test(s)).map(encodeURIComponent),
    );
    const route = fc.constantFrom<['GET' | 'POST', string]>(['GET', ''], ['POST', '/retry'], ['POST', '/cancel'], ['POST', '/reschedule']);
    await fc.assert(
      fc.asyncProperty(badId, route, async (id, [method, suffix]) => {
        const before = await snapshot();
        const answer = await request(method, `/jobs/${id}${suffix}`, suffix === '/reschedule' ? '{"when":"never"}' : undefined);
        // An id that is empty or holds a slash after decoding routes nowhere: a 404 in the error shape.
        if (answer.status === 404) {
          expect(answer.json.error?.message).toMatch(/no route/);
          expect(await snapshot()).toBe(before);
          return;
        }
        return expectRefused(answer, /^(id|url)$/, before);
      }),
      { numRuns: 1500 },
    );
  });

  it('refuses bad reschedule bodies, naming when (or the stray key), and leaves the job as it was', async () => {
    const badWhen = fc.oneof(
      badDate.map((v) => JSON.stringify({ when: v })),
      fc.constantFrom('{"when":"+-1"}', '{"when":"+"}', '{"when":"+1e3"}', '{"when":"+999999999999"}', '{"when":"Never"}', '{"when":null}', '{}', '{"when":1}', '{"when":["never"]}'),
      fc.stringMatching(/^[a-z]{1,6}$/).filter((k) => k !== 'when').map((k) => `{"when":"never",${JSON.stringify(k)}:1}`),
      fc.constantFrom('[]', '"never"', '1', 'null'),
    );
    const before = JSON.stringify(await ns.store.getJob(waitingId));
    await fc.assert(
      fc.asyncProperty(badWhen, async (body) => {
        const counts = await snapshot();
        const answer = await request('POST', `/jobs/${waitingId}/reschedule`, body);
        await expectRefused(answer, /^(when|body|[a-z]{1,6})$/, counts);
        expect(JSON.stringify(await ns.store.getJob(waitingId))).toBe(before);
      }),
      { numRuns: 1500 },
    );
  });

  it('answers bad content types and bodies in the error shape, writing nothing', async () => {
    const contentType = fc.oneof(fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'image/png'), fc.stringMatching(/^[a-z]{1,8}\/[a-z]{1,8}$/).filter((t) => t !== 'application/json'));
    await fc.assert(
      fc.asyncProperty(contentType, fc.oneof(fc.constant('{"funcname":"prop.ct"}'), fc.string({ maxLength: 20 })), async (type, payload) => {
        const before = await snapshot();
        return expectRefused(await request('POST', '/jobs', payload, type), /^(content-type|body)$/, before);
      }),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 30 }).filter((s) => { try { JSON.parse(s); return false; } catch { return true; } }), async (payload) => {
        const before = await snapshot();
        return expectRefused(await request('POST', '/jobs', payload), 'body', before);
      }),
      { numRuns: 300 },
    );
  });
});
