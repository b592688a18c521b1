import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBroker } from '@drover/broker';
import { useTestNamespace } from '@drover/testing';
import { createController, type Controller } from '../src/index.js';

const ns = useTestNamespace();
let controller: Controller;
/** An admin's credentials: these tests are about the routes; http-auth.int.test.ts is about who may use them. */
let auth: { authorization: string };

beforeAll(async () => {
  auth = { authorization: `Bearer ${(await ns.store.clients.add({ who: 'http-admin', admin: true })).token}` };
  controller = createController({ store: ns.store, clients: ns.store.clients, broker: new MemoryBroker(), http: { port: 0 } });
  await controller.start();
});
afterAll(async () => {
  await controller.stop();
});

async function post(body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${controller.url}/jobs`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('HTTP API', () => {
  it('listens on 127.0.0.1 by default', () => {
    expect(controller.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('takes one job and reads it back', async () => {
    const { status, json } = await post({ funcname: 'http.one', arg: { n: 1 }, runAfter: '2040-01-01T00:00:00Z' });
    expect(status).toBe(201);
    expect(json.inserted).toBe(true);
    const response = await fetch(`${controller.url}/jobs/${json.id as string}`, { headers: auth });
    expect(await response.json()).toMatchObject({ id: json.id, funcname: 'http.one', arg: { n: 1 }, state: 'scheduled', runAfter: '2040-01-01T00:00:00.000Z' });
  });

  it('takes a batch in one request', async () => {
    const { status, json } = await post({ jobs: [{ funcname: 'http.batch' }, { funcname: 'http.batch', uniqkey: 'u' }, { funcname: 'http.batch', uniqkey: 'u' }] });
    expect(status).toBe(201);
    const jobs = json.jobs as { id: string; inserted: boolean }[];
    expect(jobs.map((j) => j.inserted)).toEqual([true, true, false]);
    expect(jobs[2]!.id).toBe(jobs[1]!.id);
  });

  it('answers bad input with a 400 naming the field, and writes nothing', async () => {
    const before = (await ns.store.findJobs({ funcname: 'http.bad' })).length;
    expect(await post({ jobs: [{ funcname: 'http.bad' }, { funcname: 'http.bad', priority: 'high' }] })).toMatchObject({ status: 400, json: { error: { field: 'jobs[1].priority' } } });
    expect(await post({ funcname: 'has space' })).toMatchObject({ status: 400, json: { error: { field: 'funcname' } } });
    expect(await post([1, 2])).toMatchObject({ status: 400, json: { error: { field: 'body' } } });
    expect((await ns.store.findJobs({ funcname: 'http.bad' })).length).toBe(before);
  });

  it('answers 404 for an unknown job and 400 for a malformed id', async () => {
    expect((await fetch(`${controller.url}/jobs/987654321`, { headers: auth })).status).toBe(404);
    const bad = await fetch(`${controller.url}/jobs/abc`, { headers: auth });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { field: 'id' } });
  });

  it('reports the status with the relay totals and whether this relay leads, to an admin', async () => {
    const response = await fetch(`${controller.url}/status`, { headers: auth });
    expect(response.status).toBe(200);
    // The only controller on this namespace: it leads.
    expect(await response.json()).toMatchObject({ status: 'ok', relay: { published: expect.any(Number), leading: true } });
  });
});

describe('HTTP API for operators', () => {
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> => {
    const payload = body ?? (method === 'GET' ? undefined : {});
    const response = await fetch(`${controller.url}${path}`, { method, headers: { ...auth, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) }, ...(payload === undefined ? {} : { body: JSON.stringify(payload) }) });
    return { status: response.status, json: await response.json() };
  };

  it('lists jobs with filters, counts them, and cancels, retries and reschedules', async () => {
    const { json } = await post({ jobs: [{ funcname: 'http.ops', arg: { k: 1 } }, { funcname: 'http.ops', arg: { k: 2 } }] });
    const [a, b] = (json.jobs as { id: string }[]).map((j) => j.id);
    const listed = await call('GET', `/jobs?funcname=http.ops&arg=${encodeURIComponent('{"k":2}')}`);
    expect((listed.json as { id: string }[]).map((j) => j.id)).toEqual([b]);
    expect(await call('POST', `/jobs/${a}/cancel`)).toMatchObject({ status: 200, json: { cancelled: true } });
    expect((await call('POST', `/jobs/${a}/cancel`)).status).toBe(404);
    expect(await call('GET', '/jobs?state=cancelled&funcname=http.ops')).toMatchObject({ json: [{ id: a, state: 'cancelled' }] });
    expect(await call('POST', `/jobs/${a}/retry`)).toMatchObject({ status: 200, json: { id: a, state: 'ready' } });
    expect(await call('POST', `/jobs/${b}/reschedule`, { when: 'never' })).toMatchObject({ status: 200, json: { id: b, state: 'scheduled', runAfter: null } });
    expect(await call('POST', `/jobs/${b}/reschedule`, { when: 'soon' })).toMatchObject({ status: 400, json: { error: { field: 'when' } } });
    const stats = (await call('GET', '/stats')).json as { funcname: string; state: string; count: number }[];
    // The retried job is ready or, the relay being live, already dispatched.
    const ops = stats.filter((c) => c.funcname === 'http.ops');
    expect(ops.reduce((n, c) => n + c.count, 0)).toBe(2);
    expect(ops.find((c) => c.state === 'scheduled')?.count).toBe(1);
    expect((await call('GET', '/jobs?state=done')).json).toMatchObject({ error: { field: 'state' } });
    expect((await call('GET', '/jobs?limit=lots')).json).toMatchObject({ error: { field: 'limit' } });
  });
});
