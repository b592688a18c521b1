/**
 * `drover workflows load|list|show` and `drover call`, called in-process through the command
 * entry (`main`), both ways they run: straight against PostgreSQL with DATABASE_URL, and through
 * the HTTP API of an embedded instance (a controller's API on a real PostgreSQL store, found
 * through the data folder with the local token). A file that does not parse or compile exits 2
 * printed as `file:line:col: message` with nothing saved; bad `call` input exits 2 naming the
 * argument or option, with nothing enqueued (also generated with fast-check).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@drover/testing';
import { runDrover, useEmbeddedCli } from './cli-harness.js';

const { ns, modes: MODES } = useEmbeddedCli('cli-wf-admin');
const drover = runDrover;
let files = '';

beforeAll(() => {
  files = mkdtempSync(join(tmpdir(), 'drover-cli-wf-files-'));
});
afterAll(() => {
  rmSync(files, { recursive: true, force: true });
});

/** Writes a JCL file; returns its path. */
function file(name: string, text: string): string {
  const path = join(files, name);
  writeFileSync(path, text);
  return path;
}

const units = async (): Promise<number> => (await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_units')).rows[0]!.n;
const jobs = async (): Promise<number> => (await ns.pool.query<{ n: number }>('SELECT (SELECT count(*) FROM jobs) + (SELECT count(*) FROM finished_jobs) AS n')).rows[0]!.n;

const action = (name: string): string => `action ${name}:\nin:\n\tvalue number\nout:\n\tvalue number\n`;
const workflow = (name: string, calls: string): string =>
  `workflow ${name}:\nin:\n\tvalue number\nout:\n\tvalue number\nwfomap:\n\t<value>\ndo:\n\tcall ${calls}:\n\t\tvalue = a.value\n\tinto:\n\t\t<value>\n`;

describe.each(Object.keys(MODES) as (keyof typeof MODES)[])('drover workflows, %s', (mode) => {
  const env = (): Record<string, string> => MODES[mode]();
  const p = `${mode}.`;

  it('loads files, all units in order, and prints name, kind and version of each', async () => {
    const a = file(`${mode}-inc.ac`, action(`${p}inc`));
    const w = file(`${mode}-flow.wf`, workflow(`${p}flow`, `${p}inc`));
    const loaded = await drover(['workflows', 'load', w, a], env());
    expect(loaded).toMatchObject({ code: 0, stderr: '' });
    expect(loaded.stdout).toBe(`${p}flow  workflow  version 1\n${p}inc  action  version 1\n`);
    const again = await drover(['workflows', 'load', w, '--json'], env());
    expect(again.code).toBe(0);
    // The second load compiles its call against the action stored by the first.
    expect(JSON.parse(again.stdout)).toMatchObject({ units: [{ name: `${p}flow`, kind: 'workflow', version: 2 }], schemas: [] });
  });

  it('lists the newest version of each unit, and shows one with its signature and source', async () => {
    const listed = await drover(['workflows', 'list', '--json'], env());
    const mine = (JSON.parse(listed.stdout) as { name: string; version: number; kind: string; loadedAt: string }[]).filter((u) => u.name.startsWith(p));
    expect(mine.map((u) => [u.name, u.kind, u.version])).toEqual([[`${p}flow`, 'workflow', 2], [`${p}inc`, 'action', 1]]);
    expect(Number.isNaN(Date.parse(mine[0]!.loadedAt))).toBe(false);
    expect((await drover(['workflows', 'list'], env())).stdout).toMatch(new RegExp(`${p}flow\\s+workflow\\s+2\\s+-\\s+2\\s+\\d{4}-`));

    const shown = await drover(['workflows', 'show', `${p}inc`], env());
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('kind       action');
    expect(shown.stdout).toContain('"in":[{"name":"value","type":"number","optional":false}]');
    expect(shown.stdout).toContain(action(`${p}inc`).trimEnd());
    const json = JSON.parse((await drover(['workflows', 'show', `${p}flow`, '--json'], env())).stdout) as { version: number; signature: unknown; source: string };
    expect(json).toMatchObject({ version: 2, signature: { name: `${p}flow`, kind: 'workflow', out: [{ name: 'value', type: 'number', optional: false }] }, source: workflow(`${p}flow`, `${p}inc`) });
    expect(await drover(['workflows', 'show', `${p}none`], env())).toMatchObject({ code: 1, stderr: `no workflow unit ${p}none\n` });
  });

  it('loads NAME.schema.json files as named schemas and --tag versions; lists, shows and calls by tag', async () => {
    const schemaName = `${mode}_amount`;
    const schema = file(`${schemaName}.schema.json`, JSON.stringify({ type: 'number', minimum: 0 }));
    const typed = (version: number) => `workflow ${p}typed:\nin:\n\tvalue ${schemaName}\nout:\n\tversion number\nwfomap:\n\tversion = ${version}\ndo:\n\teval:\n\t\tseen = true\n`;
    const v1 = file(`${mode}-typed1.wf`, typed(1));
    const loaded = await drover(['workflows', 'load', schema, v1], env());
    expect(loaded).toMatchObject({ code: 0, stdout: `${schemaName}  json schema\n${p}typed  workflow  version 1\n` });
    expect(await ns.store.jsonSchemas()).toContainEqual({ name: schemaName, schema: { type: 'number', minimum: 0 } });
    const beta = await drover(['workflows', 'load', file(`${mode}-typed2.wf`, typed(2)), '--tag', 'beta', '--json'], env());
    expect(JSON.parse(beta.stdout)).toMatchObject({ units: [{ name: `${p}typed`, version: 2 }] });

    const listed = async (...tag: string[]) => (JSON.parse((await drover(['workflows', 'list', ...tag, '--json'], env())).stdout) as { name: string; version: number; tags: string[] }[])
      .filter((u) => u.name === `${p}typed`).map((u) => [u.version, u.tags]);
    expect(await listed()).toEqual([[1, []]]);
    expect(await listed('--tag', 'beta')).toEqual([[2, ['beta']]]);
    const shown = await drover(['workflows', 'show', `${p}typed`], env());
    expect(shown.stdout).toContain('version    1 (newest: 2)');
    expect((await drover(['workflows', 'show', `${p}typed`, '--tag', 'beta'], env())).stdout).toContain('tags       beta');

    // No engine runs here: the job a tagged call enqueues carries the tag, which picks its version when an engine starts it.
    const called = await drover(['call', `${p}typed`, '{"value":1}', '--tag', 'beta', '--timeout-ms', '50', '--json'], env());
    expect(called.code).toBe(1);
    const { jobId } = JSON.parse(called.stdout) as { jobId: string };
    expect((await ns.pool.query<{ tag: string }>('SELECT tag FROM workflow_job_tags WHERE job_id = $1', [jobId])).rows).toEqual([{ tag: 'beta' }]);

    // A schema file that is not JSON, or not a schema, is refused by its file, and nothing is saved.
    const before = await units();
    const notJson = await drover(['workflows', 'load', file(`${mode}_broken.schema.json`, '{'), v1], env());
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain(`${mode}_broken.schema.json`);
    const notSchema = await drover(['workflows', 'load', file(`${mode}_bad.schema.json`, '{"type":"nope"}'), v1, '--json'], env());
    expect(notSchema.code).toBe(2);
    expect(notSchema.stderr).toContain(`${mode}_bad.schema.json`);
    expect(JSON.parse(notSchema.stdout)).toMatchObject({ error: { at: expect.stringContaining(`${mode}_bad.schema.json`) as unknown } });
    for (const argv of [['workflows', 'load', v1, '--tag', ''], ['workflows', 'list', '--tag', ''], ['workflows', 'show', `${p}typed`, '--tag', 'x'.repeat(201)]]) {
      const refused = await drover(argv, env());
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('--tag');
    }
    const tagged = await drover(['workflows', 'load', schema, v1, '--tag', 'beta'], env());
    expect(tagged.code).toBe(2);
    expect(tagged.stderr).toContain('schemas: are not versioned by tag');
    expect(await units()).toBe(before);
    expect((await ns.store.jsonSchemas()).map((s) => s.name)).not.toContain(`${mode}_bad`);
  });

  it('refuses a syntax error as file:line:col, exit 2, and saves none of the load', async () => {
    const before = await units();
    const good = file(`${mode}-good.ac`, action(`${p}good`));
    const bad = file(`${mode}-bad.wf`, `workflow ${p}bad:\ndo:\n\tcall\n`);
    const result = await drover(['workflows', 'load', good, bad], env());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+: `));
    expect(await units()).toBe(before);
  });

  it('refuses a call of an unknown action, naming it, and saves none of the load', async () => {
    const before = await units();
    const good = file(`${mode}-good2.ac`, action(`${p}good2`));
    const bad = file(`${mode}-unknown.wf`, workflow(`${p}unknown`, `${p}nowhere`));
    const result = await drover(['workflows', 'load', good, bad], env());
    expect(result.code).toBe(2);
    expect(result.stderr.startsWith(`${bad}:`)).toBe(true);
    expect(result.stderr).toContain(`${p}nowhere`);
    expect(await units()).toBe(before);
    expect(await ns.store.workflowUnit(`${p}good2`)).toBeNull();
  });

  it('refuses generated garbage files with exit 2 and saves nothing', async () => {
    const before = await units();
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 60 }).filter((s) => !s.includes('\0')), async (text) => {
        const path = file(`${mode}-fuzz.wf`, `workflow ${p}fuzz:\ndo:\n\t${text} ${text}\n`);
        const result = await drover(['workflows', 'load', path], env());
        // Garbage that happens to be a valid statement loads; everything else is located.
        if (result.code === 0) return;
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(/:\d+:\d+: /);
      }),
      { numRuns: 30 },
    );
    await ns.pool.query('DELETE FROM workflow_units WHERE name = $1', [`${p}fuzz`]);
    expect(await units()).toBe(before);
    const missing = await drover(['workflows', 'load', join(files, 'no-such-file.wf')], env());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no-such-file.wf: cannot read it');
  });

  it('calls a function and prints its result (exit 0), or its failure (exit 1)', async () => {
    const funcname = `${p}served`;
    const serve = async (outcome: 'complete' | 'fail'): Promise<void> => {
      const ready = async () => (await ns.store.findJobs({ funcname })).find((j) => j.state === 'ready');
      await waitFor(async () => (await ready()) !== undefined, { what: 'the called job', timeoutMs: 10_000, intervalMs: 20 });
      const job = await ready();
      const [claimed] = await ns.store.claim([job!.id], { leaseMs: 60_000 });
      if (outcome === 'complete') await ns.store.complete({ id: claimed!.id, grabToken: claimed!.grabToken, result: { got: job!.arg } });
      else await ns.store.fail({ id: claimed!.id, grabToken: claimed!.grabToken, error: 'it broke', permanent: true, retryDelayMs: 0 });
    };
    const [ok] = await Promise.all([drover(['call', funcname, '{"n":7}', '--timeout-ms', '10000'], env()), serve('complete')]);
    expect(ok).toMatchObject({ code: 0, stdout: '{"got":{"n":7}}\n' });
    const [failed] = await Promise.all([drover(['call', funcname, '--json'], env()), serve('fail')]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('it broke');
    expect(JSON.parse(failed.stdout)).toMatchObject({ error: expect.stringContaining('failed') as unknown });
    const timedOut = await drover(['call', `${p}nobody`, '--timeout-ms', '50'], env());
    expect(timedOut.code).toBe(1);
  });

  it('refuses bad call input by its argument or option, enqueueing nothing', async () => {
    const before = await jobs();
    const badJson = fc.string({ maxLength: 20 }).filter((s) => {
      try {
        JSON.parse(s);
        return false;
      } catch {
        return true;
      }
    });
    const badTimeout = fc.oneof(fc.constantFrom('0', '-5', '1.5', 'soon', '', '99999999999'), fc.string({ maxLength: 8 }).filter((s) => !/^\s*\d+\s*$/.test(s) || Number(s) < 1));
    const badName = fc.string({ maxLength: 30 }).filter((s) => !/^[A-Za-z0-9_.:-]{1,200}$/.test(s) && !s.startsWith('-'));
    const cases = fc.oneof(
      // `--` ends the options: a text starting with '-' is an option to commander, as to any CLI.
      badJson.map((arg) => ({ argv: ['call', 'f.x', '--', arg], field: '<arg>' })),
      badTimeout.map((t) => ({ argv: ['call', 'f.x', '--timeout-ms', t], field: '--timeout-ms' })),
      badName.map((name) => ({ argv: ['call', name], field: '<name>' })),
      fc.constantFrom('', 'x'.repeat(201)).map((tag) => ({ argv: ['call', 'f.x', '--tag', tag], field: '--tag' })),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ argv, field }) => {
        const result = await drover(argv, env());
        expect(result.code).toBe(2);
        expect(result.stderr).toContain(field);
      }),
      { numRuns: 60 },
    );
    expect(await jobs()).toBe(before);
  });
});
