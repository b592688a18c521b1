/**
 * Role: WorkflowRunStore / ProducerStore — a job's requested workflow version tag (migration 0015)
 * is written with the job and picks the version its start runs (the newest carrying the tag, else
 * the newest default); named JSON Schemas are stored and listed. Bad input names its field and
 * writes nothing. Runs on both adapters.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError, type Json } from '@drover/core';
import { useTestNamespace } from '@drover/testing';

const ns = useTestNamespace();
const LEASE = { leaseMs: 60_000 };
const program: Json = [{ call: 'x' }];

const count = async (sql: string): Promise<number> => (await ns.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${sql}`)).rows[0]!.n;

/** Inserts a job of `name` (with `tag`), claims and starts it; the unit id it started on, or `none: <tag>`. */
async function startOn(name: string, tag?: string): Promise<string | null> {
  const { id } = await ns.store.insert({ funcname: name, arg: {} }, tag === undefined ? {} : { workflowTag: tag });
  const [claimed] = await ns.store.claim([id], LEASE);
  return ns.store.startWorkflowRun(
    { jobId: id, grabToken: claimed!.grabToken, name },
    async (_tx, run) => run.unitId,
    async (_tx, asked) => `none: ${asked ?? 'no tag'}`,
  );
}

const save = (name: string, tags: string[] = []) => ns.store.saveWorkflowUnit({ name, kind: 'workflow', tags, source: 's', unit: {}, compiled: program });

describe('workflow version tags', () => {
  it('starts a job on the newest version with its tag, else the newest default; untagged on the newest default', async () => {
    const v1 = await save('t.flow');
    const v2 = await save('t.flow', ['beta']);
    const v3 = await save('t.flow');
    const v4 = await save('t.flow', ['canary']);
    expect(await startOn('t.flow')).toBe(v3.id);
    expect(await startOn('t.flow', 'beta')).toBe(v2.id);
    expect(await startOn('t.flow', 'canary')).toBe(v4.id);
    expect(await startOn('t.flow', 'gamma')).toBe(v3.id);
    expect(v1.version).toBe(1);
  });

  it('lists and shows the version a job asking for a tag would run, with its tags and the newest version', async () => {
    await save('t.list');
    await save('t.list', ['beta']);
    const v3 = await save('t.list');
    await save('t.list', ['canary']);
    const only = await save('t.list.tagged', ['beta']);
    const picked = async (tag?: string) => (await ns.store.listWorkflowUnits(tag)).filter((u) => u.name.startsWith('t.list')).map((u) => [u.name, u.version, u.tags, u.latestVersion]);
    expect(await picked()).toEqual([['t.list', 3, [], 4], ['t.list.tagged', 1, ['beta'], 1]]);
    expect(await picked('beta')).toEqual([['t.list', 2, ['beta'], 4], ['t.list.tagged', 1, ['beta'], 1]]);
    expect(await picked('gamma')).toEqual([['t.list', 3, [], 4], ['t.list.tagged', 1, ['beta'], 1]]);
    expect((await ns.store.workflowUnit('t.list'))?.id).toBe(v3.id);
    expect((await ns.store.workflowUnit('t.list', 'canary'))?.version).toBe(4);
    expect((await ns.store.workflowUnit('t.list.tagged', 'zeta'))?.id).toBe(only.id);
    await expect(ns.store.listWorkflowUnits('')).rejects.toThrow(expect.objectContaining({ field: 'tag' }) as Error);
    await expect(ns.store.workflowUnit('t.list', 'a\u0000b')).rejects.toThrow(expect.objectContaining({ field: 'tag' }) as Error);
  });

  it('starts a retried workflow job on the version its tag picks again', async () => {
    await save('t.retry');
    const beta = await save('t.retry', ['beta']);
    const { id } = await ns.store.insert({ funcname: 't.retry', arg: {} }, { workflowTag: 'beta' });
    expect(await ns.store.cancel(id)).toBeTruthy();
    expect(await ns.store.retry(id)).toBeTruthy();
    const [claimed] = await ns.store.claim([id], LEASE);
    expect(await ns.store.startWorkflowRun({ jobId: id, grabToken: claimed!.grabToken, name: 't.retry' }, async (_tx, run) => run.unitId, async () => 'none')).toBe(beta.id);
  });

  it('hands the tag to noVersion when no version fits, and writes no run', async () => {
    await save('t.tagged', ['beta']);
    expect(await startOn('t.tagged', 'zeta')).toBe('none: zeta');
    expect(await startOn('t.tagged')).toBe('none: no tag');
    expect(await count("workflow_runs r JOIN jobs j ON j.id = r.job_id WHERE j.funcname = 't.tagged'")).toBe(0);
  });

  it('records the tag of an inserted job only: a duplicate keeps the tag of the job it returns', async () => {
    const first = await ns.store.insert({ funcname: 't.dup', uniqkey: 'k' }, { workflowTag: 'beta' });
    const again = await ns.store.insert({ funcname: 't.dup', uniqkey: 'k' }, { workflowTag: 'dup-gamma' });
    expect(again).toEqual({ id: first.id, inserted: false });
    const owned = await ns.store.insertFor('caller', { funcname: 't.dup', arg: {} }, { awaited: true, workflowTag: 'rc' });
    const { rows } = await ns.pool.query<{ job_id: string; tag: string }>('SELECT job_id::text, tag FROM workflow_job_tags WHERE job_id = ANY($1::bigint[]) ORDER BY workflow_job_tags.job_id', [[first.id, owned.id]]);
    expect(rows).toEqual([{ job_id: first.id, tag: 'beta' }, { job_id: owned.id, tag: 'rc' }]);
    expect(await count("workflow_job_tags WHERE tag = 'dup-gamma'")).toBe(0);
  });

  it('keeps the tags of live and finished jobs (a retry asks again), and trims those of jobs gone', async () => {
    await ns.pool.query('DELETE FROM workflow_job_tags');
    const finished = await ns.store.insert({ funcname: 't.trim' }, { workflowTag: 'beta' });
    const live = await ns.store.insert({ funcname: 't.trim' }, { workflowTag: 'beta' });
    const gone = await ns.store.insert({ funcname: 't.trim' }, { workflowTag: 'beta' });
    expect(await ns.store.cancel(finished.id)).toBeTruthy();
    expect(await ns.store.cancel(gone.id)).toBeTruthy();
    await ns.pool.query('DELETE FROM finished_jobs WHERE id = $1', [gone.id]);
    expect(await ns.store.trimJobTags()).toBe(1);
    const { rows } = await ns.pool.query<{ job_id: string }>('SELECT job_id::text FROM workflow_job_tags ORDER BY workflow_job_tags.job_id');
    expect(rows).toEqual([{ job_id: finished.id }, { job_id: live.id }]);
  });

  it('refuses a bad tag, naming workflowTag, and inserts nothing', async () => {
    await ns.pool.query('DELETE FROM jobs');
    await ns.pool.query('DELETE FROM workflow_job_tags');
    const bad = fc.oneof(fc.constant(''), fc.string({ minLength: 201, maxLength: 260 }), fc.integer(), fc.boolean(), fc.object(), fc.constant('a\u0000b'));
    await fc.assert(
      fc.asyncProperty(bad, async (tag) => {
        const err = await ns.store.insert({ funcname: 't.bad' }, { workflowTag: tag as string }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).field).toBe('workflowTag');
        const err2 = await ns.store.insertFor('caller', { funcname: 't.bad' }, { workflowTag: tag as string }).catch((e: unknown) => e);
        expect((err2 as ValidationError).field).toBe('workflowTag');
      }),
      { numRuns: 60 },
    );
    expect(await count('jobs')).toBe(0);
    expect(await count('workflow_job_tags')).toBe(0);
  });
});

describe('named JSON Schemas', () => {
  it('stores, replaces and lists schemas by name', async () => {
    await ns.store.saveJsonSchema('s_order', { type: 'object' });
    await ns.store.saveJsonSchema('a_money', { type: 'number' });
    await ns.store.saveJsonSchema('s_order', { type: 'object', required: ['id'] });
    expect(await ns.store.jsonSchemas()).toEqual([
      { name: 'a_money', schema: { type: 'number' } },
      { name: 's_order', schema: { type: 'object', required: ['id'] } },
    ]);
  });

  it('refuses a bad name or schema, naming the field, and stores nothing', async () => {
    await ns.pool.query('DELETE FROM json_schemas');
    const badName = fc.oneof(fc.constant(''), fc.constant('number'), fc.constant('json'), fc.constant('has space'), fc.integer(), fc.string({ minLength: 201, maxLength: 240 }));
    const badSchema = fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.array(fc.integer()), fc.boolean());
    await fc.assert(
      fc.asyncProperty(badName, async (name) => {
        const err = await ns.store.saveJsonSchema(name as string, { type: 'object' }).catch((e: unknown) => e);
        expect((err as ValidationError).field).toBe('name');
      }),
      { numRuns: 40 },
    );
    await fc.assert(
      fc.asyncProperty(badSchema, async (schema) => {
        const err = await ns.store.saveJsonSchema('ok_name', schema as Json).catch((e: unknown) => e);
        expect((err as ValidationError).field).toBe('schema');
      }),
      { numRuns: 40 },
    );
    expect(await count('json_schemas')).toBe(0);
  });
});
