/**
 * The workflow routes (http-workflows.ts) against a real PostgreSQL store: a load compiled here and
 * saved all or none, with named schemas and version tags, the list and one unit (per tag), a job
 * asking for a tag, the scopes (admin to load; `call` on a unit's name to
 * read it, a unit out of reach answered 404), bad input answered 400 naming the field with nothing
 * saved (also generated with fast-check), and a workflow job's steps in `GET /jobs/:id`.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { silentLogger } from '@drover/core';
import { useTestNamespace } from '@drover/testing';
import { createHttpApi } from '../src/index.js';
import { injectJson, type Answer } from './http-inject.js';

const ns = useTestNamespace();
let app: FastifyInstance;
let admin = '';
let caller = '';

beforeAll(async () => {
  admin = (await ns.store.clients.add({ who: 'wf-admin', admin: true })).token;
  caller = (await ns.store.clients.add({ who: 'wf-caller', call: ['shop.*'] })).token;
  app = createHttpApi({ store: ns.store, clients: ns.store.clients, logger: silentLogger });
});
afterAll(async () => {
  await app.close();
});

/** A value sent as its JSON (null too), or nothing (a POST then sends `{}`). */
const send = (method: 'GET' | 'POST', url: string, body?: unknown, token: string | null = admin): Promise<Answer> =>
  injectJson(app, method, url, { payload: body === undefined ? undefined : JSON.stringify(body), token });

const units = async (): Promise<number> => (await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_units')).rows[0]!.n;
const ACTION = 'action shop.charge:\nin:\n\tamount number\nout:\n\tok boolean\n';
const FLOW = 'workflow shop.order:\nin:\n\tamount number\nout:\n\tok boolean\nwfomap:\n\t<ok>\ndo:\n\tcall shop.charge:\n\t\t<amount>\n\tinto:\n\t\t<ok>\n';

describe('workflow routes', () => {
  it('loads files for an admin, lists the units in reach, shows one, and answers 404 for the rest', async () => {
    const loaded = await send('POST', '/workflows', { files: [{ name: 'shop.wf', text: FLOW }, { name: 'shop.ac', text: ACTION }] });
    expect(loaded.status).toBe(201);
    expect(loaded.json.units).toMatchObject([{ name: 'shop.order', kind: 'workflow', version: 1 }, { name: 'shop.charge', kind: 'action', version: 1 }]);
    await send('POST', '/workflows', { files: [{ name: 'other.ac', text: 'action other.thing:\n' }] });

    const all = (await send('GET', '/workflows')).json as unknown as { name: string }[];
    expect(all.map((u) => u.name)).toEqual(['other.thing', 'shop.charge', 'shop.order']);
    const mine = (await send('GET', '/workflows', undefined, caller)).json as unknown as { name: string; loadedAt: string; source?: string }[];
    expect(mine.map((u) => u.name)).toEqual(['shop.charge', 'shop.order']);
    expect(mine[0]!.source).toBeUndefined();

    const shown = await send('GET', '/workflows/shop.order', undefined, caller);
    expect(shown).toMatchObject({ status: 200, json: { name: 'shop.order', version: 1, source: FLOW, signature: { in: [{ name: 'amount', type: 'number', optional: false }] } } });
    expect((await send('GET', '/workflows/other.thing', undefined, caller)).status).toBe(404);
    expect((await send('GET', '/workflows/shop.none')).status).toBe(404);
    expect((await send('GET', '/workflows/bad%20name')).json.error).toMatchObject({ field: 'name' });
  });

  it('refuses a load from a client without the admin scope, or without a token, saving nothing', async () => {
    const before = await units();
    const body = { files: [{ name: 'shop.ac', text: ACTION }] };
    expect((await send('POST', '/workflows', body, caller)).status).toBe(403);
    expect((await send('POST', '/workflows', body, null)).status).toBe(401);
    expect(await units()).toBe(before);
  });

  it('refuses a file that does not parse or compile by file:line:column, and saves none of the load', async () => {
    const before = await units();
    const syntax = await send('POST', '/workflows', { files: [{ name: 'ok.ac', text: 'action shop.new:\n' }, { name: 'bad.wf', text: 'workflow shop.bad:\ndo:\n\tcall\n' }] });
    expect(syntax.status).toBe(400);
    expect(syntax.json.error!.field).toMatch(/^bad\.wf:3:\d+$/);
    const unknown = await send('POST', '/workflows', { files: [{ name: 'u.wf', text: FLOW.replace('call shop.charge', 'call shop.nowhere') }] });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error!.field).toMatch(/^u\.wf:\d+:\d+$/);
    expect(unknown.json.error!.message).toContain('shop.nowhere');
    expect(await units()).toBe(before);
  });

  it('refuses generated bad bodies, naming the field, and saves nothing', async () => {
    const before = await units();
    const notString = fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 2 }));
    const cases = fc.oneof(
      fc.oneof(fc.constant(null), fc.integer(), fc.array(fc.integer(), { maxLength: 2 })).map((body) => ({ body, field: 'body' })),
      fc.oneof(notString, fc.constant([])).map((files) => ({ body: { files }, field: 'files' })),
      fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['files', 'schemas', 'tag'].includes(k)).map((k) => ({ body: { files: [{ name: 'a', text: '' }], [k]: 1 }, field: k })),
      fc.oneof(fc.integer(), fc.constant('x'), fc.constant({})).map((schemas) => ({ body: { files: [{ name: 'a', text: '' }], schemas }, field: 'schemas' })),
      notString.map((x) => ({ body: { schemas: [x] }, field: 'schemas[0]' })),
      fc.oneof(notString, fc.constant(''), fc.constant('bad name')).map((name) => ({ body: { schemas: [{ name, schema: {} }] }, field: 'schemas[0].name' })),
      fc.oneof(notString, fc.constant('x')).map((schema) => ({ body: { schemas: [{ name: 'shop_s', schema }] }, field: 'schemas[0].schema' })),
      fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !['name', 'schema', 'file'].includes(k)).map((k) => ({ body: { schemas: [{ name: 'shop_s', schema: {}, [k]: 1 }] }, field: `schemas[0].${k}` })),
      fc.oneof(fc.integer(), fc.constant(''), fc.constant('x'.repeat(201))).map((tag) => ({ body: { files: [{ name: 'a.ac', text: 'action shop.t:\n' }], tag }, field: 'tag' })),
      notString.map((x) => ({ body: { files: [x] }, field: 'files[0]' })),
      fc.oneof(notString, fc.constant('')).map((name) => ({ body: { files: [{ name, text: '' }] }, field: 'files[0].name' })),
      notString.map((text) => ({ body: { files: [{ name: 'a.wf', text }] }, field: 'files[0].text' })),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ({ body, field }) => {
        const answer = await send('POST', '/workflows', body);
        expect(answer.status).toBe(400);
        expect(answer.json.error!.field?.startsWith(field)).toBe(true);
      }),
      { numRuns: 150 },
    );
    expect(await units()).toBe(before);
  });

  it('loads schemas and tagged versions, lists and shows per tag, and enqueues a job asking for a tag', async () => {
    const TYPED = 'workflow shop.typed:\nin:\n\titem shop_item\nout:\n\tok boolean\nwfomap:\n\tok = true\ndo:\n\teval:\n\t\tseen = true\n';
    const loaded = await send('POST', '/workflows', { files: [{ name: 'typed.wf', text: TYPED }], schemas: [{ name: 'shop_item', schema: { type: 'object' } }] });
    expect(loaded).toMatchObject({ status: 201, json: { units: [{ name: 'shop.typed', version: 1 }], schemas: ['shop_item'] } });
    const tagged = await send('POST', '/workflows', { files: [{ name: 'typed.wf', text: TYPED.replace('ok = true', 'ok = false') }], tag: 'beta' });
    expect(tagged).toMatchObject({ status: 201, json: { units: [{ name: 'shop.typed', version: 2 }], schemas: [] } });

    const pick = async (query: string) => ((await send('GET', `/workflows${query}`, undefined, caller)).json as unknown as { name: string; version: number; tags: string[]; latestVersion: number }[])
      .filter((u) => u.name === 'shop.typed').map(({ version, tags, latestVersion }) => ({ version, tags, latestVersion }));
    expect(await pick('')).toEqual([{ version: 1, tags: [], latestVersion: 2 }]);
    expect(await pick('?tag=beta')).toEqual([{ version: 2, tags: ['beta'], latestVersion: 2 }]);
    expect((await send('GET', '/workflows/shop.typed?tag=beta', undefined, caller)).json).toMatchObject({ version: 2, tags: ['beta'], source: TYPED.replace('ok = true', 'ok = false') });
    expect((await send('GET', '/workflows?tag=')).json.error).toMatchObject({ field: 'tag' });

    const tags = async (id: string) => (await ns.pool.query<{ tag: string }>('SELECT tag FROM workflow_job_tags WHERE job_id = $1', [id])).rows.map((r) => r.tag);
    const job = await send('POST', '/jobs', { funcname: 'shop.typed', arg: { item: {} }, tag: 'beta' }, caller);
    expect(job.status).toBe(201);
    expect(await tags(job.json.id as string)).toEqual(['beta']);
    const jobs = async () => (await ns.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE funcname = 'shop.typed'")).rows[0]!.n;
    const before = await jobs();
    expect((await send('POST', '/jobs', { funcname: 'shop.typed', tag: '' }, caller)).json.error).toMatchObject({ field: 'tag' });
    expect((await send('POST', '/jobs', { funcname: 'shop.typed', tag: 7 }, caller)).json.error).toMatchObject({ field: 'tag' });
    expect(await jobs()).toBe(before);
  });

  it("shows a workflow job's steps in GET /jobs/:id, and leaves other jobs' answer as it was", async () => {
    const [unit] = await ns.store.saveWorkflowUnits([{ name: 'shop.logged', kind: 'workflow', source: 's', unit: {}, compiled: [] }]);
    const { id } = await ns.store.insert({ funcname: 'shop.logged' });
    const [claimed] = await ns.store.claim([id], { leaseMs: 60_000 });
    expect(unit).toMatchObject({ name: 'shop.logged', version: 1 });
    await ns.store.startWorkflowRun(
      { jobId: id, grabToken: claimed!.grabToken, name: 'shop.logged' },
      async (tx) => {
        await tx.logStep(id, 'call', { name: 'shop.charge' });
      },
      () => Promise.reject(new Error('no version of shop.logged fits')),
    );
    const answer = await send('GET', `/jobs/${id}`);
    expect(answer.status).toBe(200);
    expect(answer.json.steps).toMatchObject([{ kind: 'call', detail: { name: 'shop.charge' } }]);
    const plain = await ns.store.insert({ funcname: 'shop.plain' });
    const plainAnswer = await send('GET', `/jobs/${plain.id}`);
    expect('steps' in plainAnswer.json).toBe(false);
    expect(plainAnswer.json).toEqual(JSON.parse(JSON.stringify(await ns.store.getJob(plain.id))));
  });
});
