/**
 * Property-based bad input over the CLI, called in-process through its command entry (`main`)
 * against a controller's HTTP API on a real PostgreSQL store (as against `drover dev`): every
 * generated bad argument exits 2 and names the argument or option on stderr, and nothing changes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { JOB_STATES, silentLogger } from '@drover/core';
import { createHttpApi } from '@drover/controller';
import { useTestNamespace } from '@drover/testing';
import { main } from '../src/main.js';
import { writeInstance, writeLocalToken } from '../src/dev/instance.js';

const ns = useTestNamespace();
let app: FastifyInstance;
let dataDir = '';
let waitingId = '';
/** The token the CLI finds in the data folder, as `drover dev` leaves it there. */
let token = '';

beforeAll(async () => {
  token = (await ns.store.clients.add({ who: 'cli-admin', admin: true })).token;
  app = createHttpApi({ store: ns.store, clients: ns.store.clients, logger: silentLogger });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  dataDir = mkdtempSync(join(tmpdir(), 'drover-cli-prop-'));
  writeInstance({ pid: process.pid, url, namespace: ns.namespace, dataDir, startedAt: new Date().toISOString() });
  writeLocalToken(dataDir, token);
  waitingId = (await ns.store.insert({ funcname: 'cli.waiting', runAfter: '2040-01-01T00:00:00Z' })).id;
});
afterAll(async () => {
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Runs `drover <argv>` in-process; returns its exit status and what it wrote. */
async function drover(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await main(argv, { DROVER_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const snapshot = async (): Promise<string> => JSON.stringify(await ns.store.counts());

const unstorable = fc.tuple(fc.string({ maxLength: 6 }), fc.constantFrom('\u0000', '\uD800', '\uDC00'), fc.string({ maxLength: 6 })).map(([a, b, c]) => a + b + c);
const deep = fc.integer({ min: 513, max: 3000 }).map((n) => `${'['.repeat(n)}1${']'.repeat(n)}`);

/** A bad command line and the name its error must carry. */
const badCall: fc.Arbitrary<[string[], string]> = fc.oneof(
  fc.oneof(fc.constantFrom('1e400', '[1e400]', '{"n":-1e999}', '{', 'nope', '{"a":"\\u0000"}', '["\\ud800"]'), deep, unstorable.map((s) => JSON.stringify({ s })))
    .map((arg) => [['enqueue', 'cli.f', arg], '<arg>'] as [string[], string]),
  fc.oneof(fc.constantFrom('', 'a b', 'x'.repeat(201)), unstorable).map((f) => [['enqueue', f], '<funcname>'] as [string[], string]),
  fc.oneof(fc.constantFrom('', 'k'.repeat(256)), unstorable).map((k) => [['enqueue', 'cli.f', '--uniqkey', k], '--uniqkey'] as [string[], string]),
  fc.oneof(fc.constantFrom('', 'k'.repeat(256)), unstorable).map((k) => [['enqueue', 'cli.f', '--coalesce', k], '--coalesce'] as [string[], string]),
  fc.constantFrom('1', 'tomorrow', '2030-01-01', '0000-01-01T00:00:00Z', '').map((d) => [['enqueue', 'cli.f', '--run-after', d], '--run-after'] as [string[], string]),
  fc.oneof(fc.constantFrom('1.5', 'high', '101', '-101', '1e2', ''), fc.integer({ min: 101 }).map(String)).map((p) => [['enqueue', 'cli.f', '--priority', p], '--priority'] as [string[], string]),
  fc.oneof(fc.constantFrom('-1', '1001', 'x'), fc.integer({ min: 1001 }).map(String)).map((p) => [['enqueue', 'cli.f', '--max-retries', p], '--max-retries'] as [string[], string]),
  fc.constantFrom('0', '-5', '604800001', 'soon').map((p) => [['enqueue', 'cli.f', '--timeout-ms', p], '--timeout-ms'] as [string[], string]),
  fc.oneof(fc.constant(''), fc.string({ maxLength: 8 }).filter((s) => s.split(',').some((p) => !(JOB_STATES as readonly string[]).includes(p)))).map((s) => [['jobs', '--state', s], '--state'] as [string[], string]),
  fc.constantFrom('', 'a b').map((s) => [['jobs', '--funcname', s], '--funcname'] as [string[], string]),
  fc.oneof(fc.constantFrom('', '{', '1e400', '{"a":"\\u0000"}'), deep).map((s) => [['jobs', '--arg', s], '--arg'] as [string[], string]),
  fc.constantFrom('', '0', '1001', 'lots', '1.5').map((s) => [['jobs', '--limit', s], '--limit'] as [string[], string]),
  fc.constantFrom('', '0', 'abc', '9223372036854775808').map((s) => [['jobs', '--before', s], '--before'] as [string[], string]),
  fc.tuple(fc.constantFrom('show', 'retry', 'cancel'), fc.oneof(fc.constantFrom('0', '-1', '01', 'abc', '1.5', '9'.repeat(30)), fc.string({ maxLength: 8 }).filter((s) => !/^[1-9]\d{0,18}$/.test(s) && !s.startsWith('-'))))
    .map(([cmd, id]) => [[cmd, id], '<id>'] as [string[], string]),
  fc.constantFrom('1', '2030-01-01', 'tomorrow', '+-1', '+999999999999', 'Never', '0000-01-01T00:00:00Z').map((w) => [['reschedule', 'WAITING', `${w}`], '<when>'] as [string[], string]),
);

describe('drover CLI, property-based', () => {
  it('exits 2 on bad input, naming the argument or option, and changes nothing', async () => {
    const before = JSON.stringify(await ns.store.getJob(waitingId));
    await fc.assert(
      fc.asyncProperty(badCall, async ([argv, name]) => {
        const counts = await snapshot();
        const args = argv.map((a) => (a === 'WAITING' ? waitingId : a));
        // `--` keeps an argument that starts with '-' from being read as an option.
        const withDashes = args[0] === 'reschedule' ? [args[0], '--', ...args.slice(1)] : args;
        const { code, stderr } = await drover(withDashes);
        expect(code, stderr).toBe(2);
        expect(stderr).toContain(name);
        expect(await snapshot()).toBe(counts);
      }),
      { numRuns: 1500 },
    );
    expect(JSON.stringify(await ns.store.getJob(waitingId))).toBe(before);
  });

  it('enqueues what it was given when the input is good', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 3 }).filter((v) => !/\\u0000|\\ud[89a-f]/i.test(JSON.stringify(v))), fc.integer({ min: -100, max: 100 }), async (arg, priority) => {
        const { code, stdout, stderr } = await drover(['enqueue', 'cli.ok', JSON.stringify(arg), '--priority', String(priority), '--json']);
        expect(code, stderr).toBe(0);
        const { id } = JSON.parse(stdout) as { id: string };
        const job = await ns.store.getJob(id);
        expect(job).toMatchObject({ funcname: 'cli.ok', priority });
        // jsonb orders keys its own way; equality is by value.
        expect(job!.arg).toEqual(JSON.parse(JSON.stringify(arg)));
      }),
      { numRuns: 100 },
    );
  });

  it('exits 2 and names the field when the server refuses the input', async () => {
    const before = await snapshot();
    // Everything the CLI can check it checks first; a body over the server's limit only the server
    // can refuse, and that refusal (413) is bad input too.
    const small = createHttpApi({ store: ns.store, clients: ns.store.clients, logger: silentLogger, bodyLimit: 64 });
    const url = await small.listen({ host: '127.0.0.1', port: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'drover-cli-small-'));
    writeInstance({ pid: process.pid, url, namespace: ns.namespace, dataDir: dir, startedAt: new Date().toISOString() });
    writeLocalToken(dir, token);
    try {
      let stderr = '';
      const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
      const code = await main(['enqueue', 'cli.big', JSON.stringify('x'.repeat(200))], { DROVER_DATA_DIR: dir }).finally(() => err.mockRestore());
      expect(code).toBe(2);
      expect(stderr).toContain('body');
      expect(await snapshot()).toBe(before);
    } finally {
      await small.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
