/**
 * `drover events raise`, called in-process through the CLI's entry (`main`) against a real
 * PostgreSQL store: through the API of an embedded instance (as against `drover dev`) and straight
 * in the database (DATABASE_URL). A matching `@event` trigger makes its job; bad input exits 2
 * naming the argument or option as typed, and nothing is written.
 */
import fc from 'fast-check';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import { runDrover, useEmbeddedCli } from './cli-harness.js';

const cli = useEmbeddedCli('ev-cli-admin');
const { ns } = cli;
beforeEach(async () => {
  await ns.pool.query('DELETE FROM triggers');
  await ns.pool.query('DELETE FROM jobs');
});

/** `drover <argv>`, through the embedded instance unless told otherwise. */
function drover(argv: string[], env: Record<string, string> = { DROVER_DATA_DIR: cli.dataDir() }): ReturnType<typeof runDrover> {
  return runDrover(argv, { LOG_LEVEL: 'silent', ...env });
}

async function jobCount(): Promise<number> {
  const { rows } = await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs');
  return rows[0]!.n;
}

describe('drover events raise', () => {
  it('raises an event through the embedded API: the matching trigger makes its job', async () => {
    await ns.store.createTrigger({ spec: '@event io.cozy.files:CREATED', funcname: 'evcli.created', arg: { a: 1 } });
    const run = await drover(['events', 'raise', 'io.cozy.files', 'CREATED', '{"_id":"f1","name":"a.txt"}', '--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const raised = JSON.parse(run.stdout) as { matched: number; jobIds: string[] };
    expect(raised.matched).toBe(1);
    expect(await ns.store.getJob(raised.jobIds[0]!)).toMatchObject({ funcname: 'evcli.created', arg: { arg: { a: 1 }, event: { verb: 'CREATED', id: 'f1', doc: { name: 'a.txt' } } } });
  });

  it('raises straight in PostgreSQL with DATABASE_URL, with --old-doc', async () => {
    await ns.store.createTrigger({ spec: '@event io.cozy.files:UPDATED:!=:name', funcname: 'evcli.renamed' });
    const env = { DATABASE_URL: inject('droverServices').databaseUrl, DROVER_NAMESPACE: ns.namespace };
    const run = await drover(['events', 'raise', 'io.cozy.files', 'UPDATED', '{"_id":"f1","name":"b"}', '--old-doc', '{"_id":"f1","name":"a"}'], env);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^1 trigger matched; jobs \d+\n$/);
    const same = await drover(['events', 'raise', 'io.cozy.files', 'UPDATED', '{"_id":"f1","name":"b"}', '--old-doc', '{"_id":"f1","name":"b"}'], env);
    expect(same.stdout).toBe('0 triggers matched; no job created\n');
    expect(await jobCount()).toBe(1);
  });

  it('refuses bad input with exit 2, naming the argument as typed, and writes nothing', async () => {
    await ns.store.createTrigger({ spec: '@event io.cozy.files', funcname: 'evcli.any' });
    for (const [argv, name] of [
      [['io.cozy.files', 'TOUCHED', '{"_id":"a"}'], '<verb>'],
      [['io/files', 'CREATED', '{"_id":"a"}'], '<type>'],
      [['io.cozy.files', 'CREATED', '{"name":"a"}'], '<doc>._id'],
      [['io.cozy.files', 'CREATED', '{"_id":'], '<doc>'],
      [['io.cozy.files', 'CREATED', '[1]'], '<doc>'],
      [['io.cozy.files', 'UPDATED', '{"_id":"a"}', '--old-doc', '3'], '--old-doc'],
    ] as const) {
      const run = await drover(['events', 'raise', ...argv]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr.startsWith(`drover: ${name}:`), run.stderr).toBe(true);
    }
    // A word starting with '-' is an option to the command line, not an argument (`--` would make it one).
    const word = (maxLength: number): fc.Arbitrary<string> => fc.string({ maxLength }).filter((s) => !s.startsWith('-'));
    await fc.assert(
      fc.asyncProperty(word(12), word(12), word(20), async (type, verb, doc) => {
        const run = await drover(['events', 'raise', type, verb, doc]);
        if (run.code === 0) return;
        expect(run.code, run.stderr).toBe(2);
        expect(run.stderr, run.stderr).toMatch(/^drover: (<type>|<verb>|<doc>)/);
      }),
      { numRuns: 40 },
    );
    expect(await jobCount()).toBe(0);
  });
});
