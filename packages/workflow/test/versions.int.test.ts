/**
 * Workflow version tags and named JSON Schemas on the real runtime (PostgreSQL, RabbitMQ, the
 * built-in step machine): which stored version a job starts on, that a running workflow keeps its
 * version when another is loaded, and that `in:` types naming stored schemas are checked.
 */
import { describe, expect, it } from 'vitest';
import type { Json } from '@drover/core';
import { waitFor } from '@drover/testing';
import { createEvaluator, createMachine, createReloadableTypeChecker, createSandbox, createTypeChecker, loadJcl, storedTypeChecker, type TypeChecker } from '../src/index.js';
import { useEngineHarness } from './harness.js';

const h = useEngineHarness();
const { ns } = h;

/** A version of `vflow`: it waits on the gate action, then answers which version it is. */
const flow = (name: string, version: number): string => `workflow ${name}:
in:
	n number 0
out:
	version number
wfomap:
	version = ${version}
do:
	call vgate:
		n = a.n
`;
const GATE = `action vgate:
in:
	n number 0
out:
	ok boolean
`;

const machineWith = (types: TypeChecker) => createMachine({ evaluator: createEvaluator({ sandbox: createSandbox(), types }), types });
const load = (text: string, types: TypeChecker = createTypeChecker({})) =>
  loadJcl([{ fileName: 'v.wf', text }], { stored: { lookup: () => null }, types });

/** The gate's handler waits until the test opens it. */
function gate(): { open(): void; handler: () => Promise<{ ok: boolean }> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, handler: async () => (await opened, { ok: true }) };
}

const error = (job: { failureLog: { error: string }[] }): string => job.failureLog.at(-1)?.error ?? '';

describe('workflow version tags', () => {
  it('starts untagged jobs on the newest default version, tagged ones on the newest with the tag, and keeps a running version', async () => {
    await h.saveUnits(load(flow('vflow', 1) + '\n' + GATE));
    const g = gate();
    await h.startRelay();
    await h.startWorker({ functions: { vgate: { handler: g.handler, maxRetries: 0, slots: 16 } } });
    await h.startEngine(machineWith(createTypeChecker({})));

    // A workflow running on v1, waiting on its child, while v2 and v3 are loaded.
    const { id: running } = await ns.store.insert({ funcname: 'vflow', arg: {} });
    await waitFor(async () => ((await h.children(running)).length === 1 ? true : null), { what: 'v1 to wait on its child' });
    // Loaded with the gate's declaration for the compiler; only the workflow is stored again.
    const only = (version: number) => load(flow('vflow', version) + '\n' + GATE).filter((u) => u.kind === 'workflow');
    await h.saveUnits(only(2), ['beta']);
    await h.saveUnits(only(3));

    const untagged = (await ns.store.insert({ funcname: 'vflow', arg: {} })).id;
    const beta = (await ns.store.insert({ funcname: 'vflow', arg: {} }, { workflowTag: 'beta' })).id;
    const gamma = (await ns.store.insert({ funcname: 'vflow', arg: {} }, { workflowTag: 'gamma' })).id;
    const rpcBeta = (await ns.store.insertFor('caller', { funcname: 'vflow', arg: {} }, { awaited: true, workflowTag: 'beta' })).id;
    g.open();

    const versionOf = async (id: string): Promise<Json> => {
      const job = await waitFor(h.finished(id), { what: `job ${id} to finish` });
      expect(job.state, error(job)).toBe('completed');
      return (job.result as { version: Json }).version;
    };
    expect(await versionOf(running)).toBe(1);
    expect(await versionOf(untagged)).toBe(3);
    expect(await versionOf(beta)).toBe(2);
    expect(await versionOf(gamma)).toBe(3);
    expect(await versionOf(rpcBeta)).toBe(2);
  });

  it('fails a job with a fatal error naming the tag when no version fits it', async () => {
    await h.saveUnits(load(flow('tagonly', 1) + '\n' + GATE), ['beta']);
    await h.startRelay();
    await h.startEngine(machineWith(createTypeChecker({})));
    const zeta = (await ns.store.insert({ funcname: 'tagonly', arg: {} }, { workflowTag: 'zeta' })).id;
    const none = (await ns.store.insert({ funcname: 'tagonly', arg: {} })).id;

    const zetaJob = await waitFor(h.finished(zeta), { what: 'the zeta job to fail' });
    expect(zetaJob.state).toBe('failed');
    expect(JSON.parse(error(zetaJob))).toEqual({ class: 'fatal', msg: 'workflow tagonly has no version tagged "zeta" and no default version (one without tags)' });
    const noneJob = await waitFor(h.finished(none), { what: 'the untagged job to fail' });
    expect(noneJob.state).toBe('failed');
    expect(error(noneJob)).toContain('workflow tagonly has no default version');
  });
});

describe('version tags through loadUnits', () => {
  /** `inner` answers its version; a tagged version also takes an input `m` the default lacks. */
  const inner = (version: number, extraInput: string) => `workflow inner:
in:
	n number 0
${extraInput}out:
	version number
wfomap:
	version = ${version}
do:
	eval:
		seen = a.n
`;
  /** `outer` calls inner (passing `m` when told to) and answers inner's version; it also detaches an inner with n + 1. */
  const outer = (passM: boolean) => `workflow outer:
in:
	n number 0
out:
	inner number
wfomap:
	inner = v.inner
do:
	call inner:
		n = a.n${passM ? '\n\t\tm = 1' : ''}
	into:
		inner = o.version
	detachflow inner:
		n = a.n + 1
`;

  it('compiles a tagged load against the tagged versions, and a workflow\'s children (detached too) ask for its tag', async () => {
    await h.loadFiles({ files: [{ fileName: 'inner.wf', text: inner(1, '') }] });
    const beta = await h.loadFiles({ files: [{ fileName: 'inner.wf', text: inner(2, '\tm number 0\n') }], tag: 'beta' });
    expect(beta.units.map((u) => [u.name, u.version])).toEqual([['inner', 2]]);
    // Passing m compiles only against the beta inner: untagged, the default inner does not declare it.
    await expect(h.loadFiles({ files: [{ fileName: 'outer.wf', text: outer(true) }] })).rejects.toThrow(/outer\.wf:\d+:\d+: outer: .*\bm\b/);
    await h.loadFiles({ files: [{ fileName: 'outer.wf', text: outer(false) }] });
    await h.loadFiles({ files: [{ fileName: 'outer.wf', text: outer(true) }], tag: 'beta' });
    expect((await ns.store.listWorkflowUnits('beta')).filter((u) => u.name === 'outer' || u.name === 'inner').map((u) => [u.name, u.version, u.tags])).toEqual([
      ['inner', 2, ['beta']],
      ['outer', 2, ['beta']],
    ]);

    await h.startRelay();
    await h.startEngine(machineWith(createTypeChecker({})));
    const untagged = (await ns.store.insert({ funcname: 'outer', arg: { n: 10 } })).id;
    const tagged = (await ns.store.insert({ funcname: 'outer', arg: { n: 20 } }, { workflowTag: 'beta' })).id;
    const result = async (id: string): Promise<Json> => {
      const job = await waitFor(h.finished(id), { what: `job ${id} to finish` });
      expect(job.state, error(job)).toBe('completed');
      return job.result;
    };
    expect(await result(untagged)).toEqual({ inner: 1 });
    expect(await result(tagged)).toEqual({ inner: 2 });
    // The detached children, parentless, still ran the version their starter's tag picks.
    const detached = async (n: number): Promise<Json> => {
      const [job] = await waitFor(async () => {
        const found = await ns.store.findJobs({ funcname: 'inner', argContains: { n }, states: ['completed', 'failed', 'cancelled'] });
        return found.length > 0 ? found : null;
      }, { what: `the detached inner of n ${n} to finish` });
      return result(job!.id);
    };
    expect(await detached(11)).toEqual({ version: 1 });
    expect(await detached(21)).toEqual({ version: 2 });
  });

  it('loads schemas with the units that use them, all or none', async () => {
    const USES = `workflow usesschema:
in:
	item item_schema
out:
	ok boolean
wfomap:
	ok = true
do:
	eval:
		seen = true
`;
    const itemSchema = { type: 'object', required: ['id'] };
    // A schema that does not compile is refused by its file's name, and nothing of the load is saved.
    await expect(h.loadFiles({ files: [{ fileName: 'uses.wf', text: USES }], schemas: [{ name: 'item_schema', schema: { type: 'no such type' }, fileName: 'item_schema.schema.json' }] }))
      .rejects.toThrow(expect.objectContaining({ field: 'item_schema.schema.json' }) as Error);
    expect(await ns.store.workflowUnit('usesschema')).toBeNull();
    expect((await ns.store.jsonSchemas()).map((s) => s.name)).not.toContain('item_schema');
    // A bad unit beside a good schema: the schema is not saved either.
    await expect(h.loadFiles({ files: [{ fileName: 'uses.wf', text: USES.replace('item_schema', 'other_schema') }], schemas: [{ name: 'item_schema', schema: itemSchema }] }))
      .rejects.toThrow(/unknown type other_schema/);
    expect((await ns.store.jsonSchemas()).map((s) => s.name)).not.toContain('item_schema');

    // Of two schemas, the one that does not compile is named, not the other.
    await expect(h.loadFiles({
      files: [{ fileName: 'uses.wf', text: USES }],
      schemas: [{ name: 'item_schema', schema: itemSchema, fileName: 'good.schema.json' }, { name: 'other_schema', schema: { type: 7 }, fileName: 'bad.schema.json' }],
    })).rejects.toThrow(expect.objectContaining({ field: 'bad.schema.json' }) as Error);
    await expect(h.loadFiles({ files: [], schemas: [{ name: 'string', schema: {}, fileName: 'string.schema.json' }] }))
      .rejects.toThrow(expect.objectContaining({ field: 'string.schema.json' }) as Error);
    await expect(h.loadFiles({ files: [], schemas: [{ name: 'item_schema', schema: [] }] }))
      .rejects.toThrow(expect.objectContaining({ field: 'schemas[0].schema' }) as Error);
    // Schemas have no versions: a tagged load would change the default versions' types.
    await expect(h.loadFiles({ files: [{ fileName: 'uses.wf', text: USES }], schemas: [{ name: 'item_schema', schema: itemSchema }], tag: 'beta' }))
      .rejects.toThrow(expect.objectContaining({ field: 'schemas' }) as Error);
    expect((await ns.store.jsonSchemas()).map((s) => s.name)).not.toContain('item_schema');
    expect(await ns.store.workflowUnit('usesschema')).toBeNull();

    const loaded = await h.loadFiles({ files: [{ fileName: 'uses.wf', text: USES }], schemas: [{ name: 'item_schema', schema: itemSchema }] });
    expect(loaded.schemas).toEqual(['item_schema']);
    expect(loaded.units.map((u) => u.name)).toEqual(['usesschema']);
    expect(await ns.store.jsonSchemas()).toContainEqual({ name: 'item_schema', schema: itemSchema });
  });
});

describe('named JSON Schemas', () => {
  const ORDER = `workflow orderflow:
in:
	order order_schema
out:
	id number
wfomap:
	id = a.order.id
do:
	eval:
		seen = true
`;
  const schema = { type: 'object', required: ['id'], properties: { id: { type: 'number' } } };

  it('loads a unit naming a stored schema, and refuses one naming an unknown type', async () => {
    expect(() => load(ORDER, createTypeChecker({}))).toThrow(/unknown type order_schema/);
    expect(() => load(ORDER, createTypeChecker({}))).toThrow(/unknown type order_schema for input order/);
    await ns.store.saveJsonSchema('order_schema', schema);
    expect(load(ORDER, await storedTypeChecker(ns.store)).map((u) => u.name)).toEqual(['orderflow']);
  });

  it('checks a workflow argument against a schema saved after the engine started', async () => {
    await ns.store.saveJsonSchema('order_schema', { type: 'object' });
    await h.saveUnits(load(ORDER, await storedTypeChecker(ns.store)));
    await h.startRelay();
    const types = createReloadableTypeChecker();
    // No refresh but the NOTIFY of the save: the engine must reload on it.
    await h.startEngine(machineWith(types), { types, refreshMs: 600_000 });
    await waitFor(async () => (types.knows('order_schema') ? true : null), { what: 'the engine to load the stored schemas' });
    await ns.store.saveJsonSchema('order_schema', schema);
    await waitFor(async () => (types.check({}, 'order_schema') !== null ? true : null), { what: 'the engine to reload the saved schema' });

    const bad = (await ns.store.insert({ funcname: 'orderflow', arg: { order: { id: 'seven' } } })).id;
    const good = (await ns.store.insert({ funcname: 'orderflow', arg: { order: { id: 7 } } })).id;
    const badJob = await waitFor(h.finished(bad), { what: 'the bad order to fail' });
    expect(badJob.state).toBe('failed');
    expect(JSON.parse(error(badJob))).toMatchObject({ class: 'inargs' });
    expect(error(badJob)).toContain('input argument order has the wrong type: does not match schema order_schema');
    const goodJob = await waitFor(h.finished(good), { what: 'the good order to complete' });
    expect(goodJob.state, error(goodJob)).toBe('completed');
    expect(goodJob.result).toEqual({ id: 7 });
  });
});
