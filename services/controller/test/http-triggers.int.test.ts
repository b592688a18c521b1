/**
 * The trigger routes (http-triggers.ts) against a real PostgreSQL store: each route's happy path,
 * bad input answered 400 naming the field with nothing written (also generated with fast-check),
 * unknown triggers 404, and the scopes: `call` on the trigger's function, admin on all.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { silentLogger, type Trigger } from '@drover/core';
import { useTestNamespace } from '@drover/testing';
import { createHttpApi } from '../src/index.js';
import { injectJson, type Answer } from './http-inject.js';

const ns = useTestNamespace();
let app: FastifyInstance;
let admin = '';
let reporter = '';
let nobody = '';

beforeAll(async () => {
  admin = (await ns.store.clients.add({ who: 'trig-admin', admin: true })).token;
  reporter = (await ns.store.clients.add({ who: 'trig-reporter', call: ['report.*'] })).token;
  nobody = (await ns.store.clients.add({ who: 'trig-nobody' })).token;
  app = createHttpApi({ store: ns.store, clients: ns.store.clients, logger: silentLogger });
});
afterAll(async () => {
  await app.close();
});

/** A value sent as its JSON, or nothing (then `{}`, but for a GET). */
const send = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, token = admin): Promise<Answer> =>
  injectJson(app, method, url, { payload: body === undefined || body === null ? undefined : JSON.stringify(body), token });

/** Every trigger and every job of the namespace: a refused request must change neither. */
async function everything(): Promise<string> {
  const triggers = await ns.store.listTriggers({ limit: 1000 });
  const jobs = await ns.store.findJobs({ limit: 1000 });
  return JSON.stringify({ triggers, jobs: jobs.map((j) => [j.id, j.funcname, j.state]) });
}

describe('trigger routes', () => {
  it('create, show, state, list, update, launch, its jobs and delete', async () => {
    const created = await send('POST', '/triggers', { spec: '@cron 0 0 3 * * *', funcname: 'report.nightly', arg: { full: true }, timeZone: 'Europe/Amsterdam', priority: 5, uniqkey: 'nightly' });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ spec: '@cron 0 0 3 * * *', type: 'cron', funcname: 'report.nightly', arg: { full: true }, timeZone: 'Europe/Amsterdam', priority: 5, enabled: true, fires: 0 });
    const id = created.json.id as string;
    expect(new Date(created.json.nextFireAt as string).getTime()).toBeGreaterThan(Date.now());

    expect((await send('GET', `/triggers/${id}`)).json).toMatchObject({ id, funcname: 'report.nightly' });
    const state = await send('GET', `/triggers/${id}/state`);
    expect(state.status).toBe(200);
    expect(Object.keys(state.json).sort()).toEqual(['done', 'enabled', 'fires', 'id', 'lastError', 'lastFailureAt', 'lastFailureJobId', 'lastFiredAt', 'lastJobId', 'lastSuccessAt', 'lastSuccessJobId', 'nextFireAt'].sort());
    expect((await send('GET', '/triggers?funcname=report.nightly')).json).toEqual([expect.objectContaining({ id })]);

    const disabled = await send('PATCH', `/triggers/${id}`, { enabled: false, priority: 7 });
    expect(disabled).toMatchObject({ status: 200, json: { id, enabled: false, priority: 7, spec: '@cron 0 0 3 * * *' } });
    expect(await ns.store.getTrigger(id)).toMatchObject({ enabled: false, priority: 7 });

    // Launched while disabled: launching ignores the schedule.
    const launched = await send('POST', `/triggers/${id}/launch`);
    expect(launched.status).toBe(201);
    expect(launched.json).toMatchObject({ inserted: true, trigger: { id, fires: 1 } });
    const jobId = launched.json.jobId as string;
    expect(await ns.store.getJob(jobId)).toMatchObject({ funcname: 'report.nightly', arg: { full: true }, priority: 7, uniqkey: 'nightly' });
    // Its uniqkey's job is live: a second launch returns it and inserts nothing.
    expect(await send('POST', `/triggers/${id}/launch`)).toMatchObject({ status: 200, json: { jobId, inserted: false } });

    const jobs = await send('GET', `/triggers/${id}/jobs`);
    expect((jobs.json as unknown as { id: string }[]).map((j) => j.id)).toEqual([jobId]);
    expect((await send('GET', `/triggers/${id}/jobs?before=${jobId}`)).json).toEqual([]);

    expect(await send('DELETE', `/triggers/${id}`)).toMatchObject({ status: 200, json: { id, deleted: true } });
    expect(await ns.store.getTrigger(id)).toBeNull();
    // Its job runs on.
    expect(await ns.store.getJob(jobId)).toMatchObject({ state: expect.stringMatching(/ready|dispatched/) });
  });

  it('lists the jobs a trigger made, live and finished, newest first, a page at a time', async () => {
    const { id } = await ns.store.createTrigger({ spec: '@client', funcname: 'report.paged' });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await ns.store.launchTrigger(id))!.jobId);
    // One of them finished: it is read from finished_jobs.
    await ns.store.cancel(ids[0]!);
    const all = (await send('GET', `/triggers/${id}/jobs`)).json as unknown as { id: string; state: string }[];
    expect(all.map((j) => j.id)).toEqual([...ids].reverse());
    expect(all.at(-1)!.state).toBe('cancelled');
    const page = (await send('GET', `/triggers/${id}/jobs?limit=1&before=${ids[2]!}`)).json as unknown as { id: string }[];
    expect(page.map((j) => j.id)).toEqual([ids[1]]);
  });

  it('answers an unknown trigger 404 on every route, and changes nothing', async () => {
    const before = await everything();
    for (const [method, path] of [
      ['GET', '/triggers/987654321'],
      ['GET', '/triggers/987654321/state'],
      ['GET', '/triggers/987654321/jobs'],
      ['PATCH', '/triggers/987654321'],
      ['DELETE', '/triggers/987654321'],
      ['POST', '/triggers/987654321/launch'],
    ] as const) {
      const answer = await send(method, path);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.json.error?.message).toBe('no trigger 987654321');
    }
    expect(await everything()).toBe(before);
  });

  it('answers bad input with a 400 naming the field, and writes nothing', async () => {
    const { id } = await ns.store.createTrigger({ spec: '@every 1h', funcname: 'report.bad' });
    const before = await everything();
    const cases: [Parameters<typeof send>[0], string, unknown, string][] = [
      ['POST', '/triggers', { spec: '@cron 0 0 99 * * *', funcname: 'report.x' }, 'spec'],
      ['POST', '/triggers', { spec: '@sometimes', funcname: 'report.x' }, 'spec'],
      ['POST', '/triggers', { spec: '@every 0s', funcname: 'report.x' }, 'spec'],
      ['POST', '/triggers', { spec: '@every -5s', funcname: 'report.x' }, 'spec'],
      ['POST', '/triggers', { spec: '@daily', funcname: 'report.x', timeZone: 'Mars/Olympus' }, 'timeZone'],
      ['POST', '/triggers', { spec: '@daily', funcname: 'has space' }, 'funcname'],
      ['POST', '/triggers', { spec: '@daily', funcname: 'report.x', catchUp: 'some' }, 'catchUp'],
      ['POST', '/triggers', { spec: '@daily', funcname: 'report.x', debounce: '30s' }, 'debounce'],
      ['POST', '/triggers', { spec: '@daily', funcname: 'report.x', priority: 'high' }, 'priority'],
      ['POST', '/triggers', { spec: '@daily', funcname: 'report.x', colour: 'red' }, 'colour'],
      ['POST', '/triggers', [1, 2], 'body'],
      ['POST', '/triggers', { spec: '@daily' }, 'funcname'],
      ['POST', '/triggers', { funcname: 'report.x' }, 'spec'],
      ['PATCH', `/triggers/${id}`, { spec: '@cron nope' }, 'spec'],
      ['PATCH', `/triggers/${id}`, { enabled: 'yes' }, 'enabled'],
      ['PATCH', `/triggers/${id}`, 'off', 'body'],
      ['POST', `/triggers/${id}/launch`, { now: true }, 'now'],
      ['DELETE', `/triggers/${id}`, { really: true }, 'really'],
      ['GET', '/triggers?limit=0', undefined, 'limit'],
      ['GET', '/triggers?colour=red', undefined, 'colour'],
      ['GET', '/triggers?funcname=', undefined, 'funcname'],
      ['GET', `/triggers/${id}/jobs?before=abc`, undefined, 'before'],
      ['GET', `/triggers/${id}/jobs?funcname=report.bad`, undefined, 'funcname'],
      ['GET', '/triggers/abc', undefined, 'id'],
      ['PATCH', '/triggers/0', {}, 'id'],
    ];
    for (const [method, path, body, field] of cases) {
      const answer = await send(method, path, body);
      expect(answer.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(answer.json.error?.field, `${method} ${path} ${JSON.stringify(body)}`).toBe(field);
    }
    expect(await everything()).toBe(before);
  });

  it('refuses any generated bad value of a trigger field with a 400 naming that field, writing nothing', async () => {
    const { id } = await ns.store.createTrigger({ spec: '@every 1h', funcname: 'report.prop' });
    const before = await everything();
    const badValue = fc.oneof(fc.constant(null), fc.boolean(), fc.integer({ min: -100_000, max: -101 }), fc.constant({ nested: 1 }), fc.constant(['a']));
    const field = fc.constantFrom('spec', 'funcname', 'timeZone', 'catchUp', 'priority', 'maxRetries', 'debounce', 'enabled', 'timeoutMs');
    await fc.assert(
      fc.asyncProperty(field, badValue, fc.boolean(), async (name, value, patch) => {
        // A null timeoutMs or debounce means none, a null catchUp the default: values those fields take.
        if (value === null && (name === 'timeoutMs' || name === 'debounce' || name === 'catchUp')) return;
        if (typeof value === 'boolean' && name === 'enabled') return;
        const answer = patch ? await send('PATCH', `/triggers/${id}`, { [name]: value }) : await send('POST', '/triggers', { spec: '@daily', funcname: 'report.prop', [name]: value });
        expect(answer.status).toBe(400);
        expect(answer.json.error?.field).toBe(name);
      }),
      { numRuns: 300 },
    );
    expect(await everything()).toBe(before);
  });
});

describe('trigger routes: scopes', () => {
  it('lets a client with call on the function create, read, change, launch and delete its triggers', async () => {
    const created = await send('POST', '/triggers', { spec: '@client', funcname: 'report.mine' }, reporter);
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    expect((await send('GET', `/triggers/${id}`, undefined, reporter)).status).toBe(200);
    expect((await send('PATCH', `/triggers/${id}`, { arg: { n: 1 } }, reporter)).json).toMatchObject({ arg: { n: 1 } });
    expect((await send('POST', `/triggers/${id}/launch`, {}, reporter)).status).toBe(201);
    expect((await send('GET', `/triggers/${id}/jobs`, undefined, reporter)).json).toHaveLength(1);
    expect((await send('DELETE', `/triggers/${id}`, {}, reporter)).status).toBe(200);
  });

  it('refuses a trigger of a function the client may not call, and writes nothing', async () => {
    const other = await ns.store.createTrigger({ spec: '@client', funcname: 'billing.run' });
    const mine = await ns.store.createTrigger({ spec: '@client', funcname: 'report.keep' });
    const before = await everything();
    const created = await send('POST', '/triggers', { spec: '@daily', funcname: 'billing.run' }, reporter);
    expect(created.status).toBe(403);
    expect(created.json.error?.message).toMatch(/billing\.run/);
    expect((await send('POST', '/triggers', { spec: '@daily', funcname: 'report.any' }, nobody)).status).toBe(403);
    // Another function's trigger reads as one that does not exist, on every route.
    for (const [method, path] of [
      ['GET', `/triggers/${other.id}`],
      ['GET', `/triggers/${other.id}/state`],
      ['GET', `/triggers/${other.id}/jobs`],
      ['PATCH', `/triggers/${other.id}`],
      ['DELETE', `/triggers/${other.id}`],
      ['POST', `/triggers/${other.id}/launch`],
    ] as const) {
      const answer = await send(method, path, undefined, reporter);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(answer.json.error?.message).toBe(`no trigger ${other.id}`);
    }
    // Its own trigger cannot be moved to a function it may not call.
    expect((await send('PATCH', `/triggers/${mine.id}`, { funcname: 'billing.run' }, reporter)).status).toBe(403);
    expect((await send('GET', '/triggers?funcname=billing.run', undefined, reporter)).status).toBe(403);
    expect(await everything()).toBe(before);
  });

  it('lists to a client the triggers of the functions it may call, and every trigger to an admin', async () => {
    const listedBy = async (token: string): Promise<string[]> => ((await send('GET', '/triggers?limit=1000', undefined, token)).json as unknown as Trigger[]).map((t) => t.funcname);
    const all = await listedBy(admin);
    expect(all).toContain('billing.run');
    expect(all.some((f) => f.startsWith('report.'))).toBe(true);
    const reporters = await listedBy(reporter);
    expect(reporters.length).toBeGreaterThan(0);
    expect(reporters.every((f) => f.startsWith('report.'))).toBe(true);
    expect(reporters).toEqual(all.filter((f) => f.startsWith('report.')));
    expect(await listedBy(nobody)).toEqual([]);
  });

  it('shows a client only the jobs of functions it may call among a moved trigger\'s jobs', async () => {
    const trigger = await ns.store.createTrigger({ spec: '@client', funcname: 'hidden.before' });
    const before = await ns.store.launchTrigger(trigger.id);
    await ns.store.updateTrigger(trigger.id, { funcname: 'report.after' });
    const after = await ns.store.launchTrigger(trigger.id);
    const ids = (token: string): Promise<string[]> => send('GET', `/triggers/${trigger.id}/jobs`, undefined, token).then((a) => (a.json as unknown as { id: string }[]).map((j) => j.id));
    expect(await ids(reporter)).toEqual([after!.jobId]);
    expect(await ids(admin)).toEqual([after!.jobId, before!.jobId]);
  });

  it('needs a token', async () => {
    const response = await app.inject({ method: 'GET', url: '/triggers' });
    expect(response.statusCode).toBe(401);
  });
});

describe('trigger routes: webhook URL', () => {
  it("shows a webhook trigger's url, built from the Host the caller used, and a POST to it makes the trigger's job", async () => {
    const api = createHttpApi({ store: ns.store, clients: ns.store.clients, logger: silentLogger, allowedHosts: ['drover.example'] });
    try {
      const created = await api.inject({ method: 'POST', url: '/triggers', headers: { host: 'drover.example:8080', authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: JSON.stringify({ spec: '@webhook', funcname: 'report.hook' }) });
      expect(created.statusCode).toBe(201);
      const trigger = created.json<{ id: string; url?: string }>();
      expect(trigger.url).toMatch(/^http:\/\/drover\.example:8080\/webhooks\/[A-Za-z0-9_-]{20,}$/);
      const shown = await api.inject({ method: 'GET', url: `/triggers/${trigger.id}`, headers: { host: 'drover.example:8080', authorization: `Bearer ${admin}` } });
      expect(shown.json<{ url?: string }>().url).toBe(trigger.url);
      // The url works as given: no token, and the body reaches the job.
      const path = new URL(trigger.url!).pathname;
      const fired = await api.inject({ method: 'POST', url: path, headers: { host: 'drover.example:8080', 'content-type': 'application/json' }, payload: JSON.stringify({ ping: 1 }) });
      expect(fired.statusCode).toBe(202);
      const { jobId } = fired.json<{ jobId: string }>();
      expect((await ns.store.getJob(jobId))?.funcname).toBe('report.hook');
      expect(JSON.stringify((await ns.store.getJob(jobId))?.arg)).toContain('"ping":1');
      // A trigger of another type has no url.
      const cron = await api.inject({ method: 'POST', url: '/triggers', headers: { host: 'drover.example:8080', authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, payload: JSON.stringify({ spec: '@daily', funcname: 'report.hook' }) });
      expect(cron.json<{ url?: string }>().url).toBeUndefined();
    } finally {
      await api.close();
    }
  });
});
