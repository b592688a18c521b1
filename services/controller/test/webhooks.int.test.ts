/**
 * `POST /webhooks/:id` and `POST /events` over a real socket against a real PostgreSQL store: a
 * webhook POST creates one job carrying its body, with no token and any content type; an unknown
 * id and a disabled trigger are 404s; a bad or missing signature is refused; a body over the
 * limit is a 413; repeated failures from one address are throttled (429), in a throttle apart from
 * the tokens', and never block a real delivery. Every refusal writes nothing. Raising an event needs
 * the admin scope and creates the matching triggers' jobs.
 */
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createAmqpBroker, deleteBrokerNamespace } from '@drover/broker';
import { silentLogger, type Trigger } from '@drover/core';
import { useTestNamespace } from '@drover/testing';
import { FailureThrottle, createController, createHttpApi } from '../src/index.js';

const ns = useTestNamespace();
const SECRET = 'the-shared-secret-of-this-test';
const LIMIT = 4096;
let app: FastifyInstance;
let base = '';
let admin = '';
let caller = '';

async function listen(throttle: FailureThrottle): Promise<{ app: FastifyInstance; base: string }> {
  const api = createHttpApi({ store: ns.store, clients: ns.store.clients, logger: silentLogger, webhookThrottle: throttle, webhookBodyLimit: LIMIT });
  const url = await api.listen({ host: '127.0.0.1', port: 0 });
  return { app: api, base: url };
}

beforeAll(async () => {
  admin = (await ns.store.clients.add({ who: 'wh-admin', admin: true })).token;
  caller = (await ns.store.clients.add({ who: 'wh-caller', call: ['*'] })).token;
  ({ app, base } = await listen(new FailureThrottle({ failures: 1000 })));
});
afterAll(async () => {
  await app.close();
});
beforeEach(async () => {
  await ns.pool.query('DELETE FROM triggers');
  await ns.pool.query('DELETE FROM jobs');
});

async function jobCount(): Promise<number> {
  const { rows } = await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM jobs');
  return rows[0]!.n;
}

function sign(body: string, secret = SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function post(path: string, body: string, headers: Record<string, string> = {}, at = base): Promise<Response> {
  return fetch(`${at}${path}`, { method: 'POST', body, headers });
}

describe('POST /webhooks/:id', () => {
  let hook: Trigger;
  beforeEach(async () => {
    hook = await ns.store.createTrigger({ spec: '@webhook', funcname: 'wh.http', arg: { repo: 'x' } });
  });

  it('creates one job carrying the JSON body, with no token, and answers 202 with its id', async () => {
    const res = await post(`/webhooks/${hook.webhookId}`, JSON.stringify({ ref: 'refs/heads/main', n: 1 }), { 'content-type': 'application/json' });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    const job = await ns.store.getJob(jobId);
    expect(job).toMatchObject({ funcname: 'wh.http', arg: { arg: { repo: 'x' }, webhook: { contentType: 'application/json', body: { ref: 'refs/heads/main', n: 1 } } } });
    expect(await jobCount()).toBe(1);
  });

  it('carries any other content type as text', async () => {
    const res = await post(`/webhooks/${hook.webhookId}`, 'a=1&b=2', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    expect((await ns.store.getJob(jobId))?.arg).toEqual({ arg: { repo: 'x' }, webhook: { contentType: 'application/x-www-form-urlencoded', body: 'a=1&b=2' } });
  });

  it('takes a body with no content type as text, and an empty one as an empty string', async () => {
    const bare = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const url = new URL(base);
      const req = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path: `/webhooks/${hook.webhookId}`, headers: { 'content-length': '5' } }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
      req.end('hello');
    });
    expect(bare.status, bare.text).toBe(202);
    const { jobId } = JSON.parse(bare.text) as { jobId: string };
    expect((await ns.store.getJob(jobId))?.arg).toMatchObject({ webhook: { contentType: '', body: 'hello' } });
    const empty = await fetch(`${base}/webhooks/${hook.webhookId}`, { method: 'POST' });
    expect(empty.status).toBe(202);
    const { jobId: emptyId } = (await empty.json()) as { jobId: string };
    expect((await ns.store.getJob(emptyId))?.arg).toMatchObject({ webhook: { body: '' } });
  });

  it('answers generated ids that are not a webhook\'s with 404 (or 400 for an unreadable URL), and writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40 }).filter((id) => id !== hook.webhookId), async (id) => {
        const res = await post(`/webhooks/${encodeURIComponent(id)}`, '{}', { 'content-type': 'application/json' });
        expect([400, 404]).toContain(res.status);
        const body = (await res.json()) as { error: { field?: string } };
        expect(body.error.field).toBeDefined();
      }),
      { numRuns: 60 },
    );
    expect(await jobCount()).toBe(0);
  });

  it('answers a wrong id and a disabled trigger with 404, and writes nothing', async () => {
    for (const id of ['x'.repeat(32), 'short', `${hook.webhookId}x`]) {
      const res = await post(`/webhooks/${id}`, '{}', { 'content-type': 'application/json' });
      expect(res.status).toBe(404);
    }
    await ns.store.enableTrigger(hook.id, false);
    expect((await post(`/webhooks/${hook.webhookId}`, '{}', { 'content-type': 'application/json' })).status).toBe(404);
    expect(await jobCount()).toBe(0);
  });

  it('refuses a body over the limit with 413, naming the body, and writes nothing', async () => {
    const res = await post(`/webhooks/${hook.webhookId}`, 'x'.repeat(LIMIT + 1), { 'content-type': 'text/plain' });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe('body');
    expect(await jobCount()).toBe(0);
    expect((await post(`/webhooks/${hook.webhookId}`, 'x'.repeat(LIMIT), { 'content-type': 'text/plain' })).status).toBe(202);
  });

  it('refuses invalid JSON naming the body, and writes nothing', async () => {
    const res = await post(`/webhooks/${hook.webhookId}`, '{"a":', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field).toBe('body');
    expect(await jobCount()).toBe(0);
  });

  it('keeps the Host check', async () => {
    // fetch will not send another Host; node:http will.
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(base);
      const req = httpRequest({ host: url.hostname, port: url.port, method: 'POST', path: `/webhooks/${hook.webhookId}`, headers: { host: 'evil.example', 'content-type': 'application/json' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end('{}');
    });
    expect(status).toBe(421);
    expect(await jobCount()).toBe(0);
  });
});

describe('signed webhooks', () => {
  it('accepts the right signature, and refuses a bad or missing one without writing anything', async () => {
    const hook = await ns.store.createTrigger({ spec: '@webhook', funcname: 'wh.signed', webhookSecret: SECRET });
    const body = JSON.stringify({ action: 'opened' });
    const url = `/webhooks/${hook.webhookId}`;
    const json = { 'content-type': 'application/json' };
    const refusals: Record<string, string>[] = [
      {},
      { 'x-hub-signature-256': sign(body, 'another-secret-entirely') },
      { 'x-hub-signature-256': sign(`${body} `) },
      { 'x-hub-signature-256': sign(body).replace('sha256=', 'sha1=') },
      { 'x-hub-signature-256': 'sha256=zz' },
    ];
    for (const headers of refusals) {
      const res = await post(url, body, { ...json, ...headers });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { field: string } }).error.field).toBe('x-hub-signature-256');
    }
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 80 }).filter((s) => /^[\x20-\x7e]*$/.test(s)), async (signature) => {
        expect((await post(url, body, { ...json, 'x-hub-signature-256': signature })).status).toBe(401);
      }),
      { numRuns: 30 },
    );
    expect(await jobCount()).toBe(0);
    const ok = await post(url, body, { ...json, 'x-hub-signature-256': sign(body) });
    expect(ok.status).toBe(202);
    expect(await jobCount()).toBe(1);
  });
});

describe('brute force', () => {
  it('throttles an address after repeated unknown ids (429) and writes nothing, while a real id with a valid request still delivers', async () => {
    const strict = await listen(new FailureThrottle({ failures: 3, windowMs: 60_000, blockMs: 60_000 }));
    try {
      const hook = await ns.store.createTrigger({ spec: '@webhook', funcname: 'wh.brute' });
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await post(`/webhooks/${'g'.repeat(31)}${i}`, '{}', { 'content-type': 'application/json' }, strict.base)).status);
      expect(statuses.slice(0, 3)).toEqual([404, 404, 404]);
      expect(statuses.at(-1)).toBe(429);
      const refused = await post(`/webhooks/${'g'.repeat(32)}`, '{}', { 'content-type': 'application/json' }, strict.base);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).not.toBeNull();
      expect(await jobCount()).toBe(0);
      // A sender that shares the blocked address (a SaaS's) still delivers to its real webhook.
      const delivered = await post(`/webhooks/${hook.webhookId}`, '{}', { 'content-type': 'application/json' }, strict.base);
      expect(delivered.status).toBe(202);
      expect(await jobCount()).toBe(1);
    } finally {
      await strict.app.close();
    }
  });
});

describe('a throttle of their own', () => {
  it("a controller counts webhook failures apart from bad tokens: posts to webhook URLs never lock an address's API token out", async () => {
    const broker = await createAmqpBroker({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, connectionName: `webhooks-${ns.namespace}` });
    const controller = createController({ store: ns.store, clients: ns.store.clients, broker, http: { port: 0 }, relay: { sweepMs: 600_000 }, throttle: { failures: 3 } });
    await controller.start();
    try {
      const at = controller.url!;
      // The webhooks' throttle blocks the failure that goes over its 3: the fourth is 429.
      for (let i = 0; i < 3; i++) expect((await post(`/webhooks/${'h'.repeat(31)}${i}`, '{}', { 'content-type': 'application/json' }, at)).status).toBe(404);
      expect((await post(`/webhooks/${'h'.repeat(32)}`, '{}', { 'content-type': 'application/json' }, at)).status).toBe(429);
      // The same address's token still works.
      expect((await fetch(`${at}/stats`, { headers: { authorization: `Bearer ${admin}` } })).status).toBe(200);
      expect(await jobCount()).toBe(0);
    } finally {
      await controller.stop();
      await deleteBrokerNamespace({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, funcnames: [] });
      await broker.close();
    }
  });
});

describe('POST /events', () => {
  it('raises an event for an admin: the matching triggers make their jobs', async () => {
    const t = await ns.store.createTrigger({ spec: '@event io.cozy.files:CREATED', funcname: 'ev.http' });
    await ns.store.createTrigger({ spec: '@event io.cozy.files:DELETED', funcname: 'ev.http.deleted' });
    const res = await post('/events', JSON.stringify({ type: 'io.cozy.files', verb: 'CREATED', doc: { _id: 'f1' } }), { 'content-type': 'application/json', authorization: `Bearer ${admin}` });
    expect(res.status).toBe(201);
    const raised = (await res.json()) as { matched: number; jobIds: string[] };
    expect(raised.matched).toBe(1);
    expect(await ns.store.getJob(raised.jobIds[0]!)).toMatchObject({ funcname: 'ev.http', arg: { event: { id: 'f1' } } });
    expect((await ns.store.getTrigger(t.id))?.fires).toBe(1);
  });

  it('refuses a client without the admin scope (403), no token (401), and a bad event naming the field (400); none writes', async () => {
    await ns.store.createTrigger({ spec: '@event io.cozy.files', funcname: 'ev.http' });
    const event = JSON.stringify({ type: 'io.cozy.files', verb: 'CREATED', doc: { _id: 'f1' } });
    expect((await post('/events', event, { 'content-type': 'application/json', authorization: `Bearer ${caller}` })).status).toBe(403);
    expect((await post('/events', event, { 'content-type': 'application/json' })).status).toBe(401);
    for (const [body, field] of [
      [{ verb: 'CREATED', doc: { _id: 'f1' } }, 'type'],
      [{ type: 'io.cozy.files', verb: 'MOVED', doc: { _id: 'f1' } }, 'verb'],
      [{ type: 'io.cozy.files', verb: 'CREATED', doc: {} }, 'doc._id'],
    ] as const) {
      const res = await post('/events', JSON.stringify(body), { 'content-type': 'application/json', authorization: `Bearer ${admin}` });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { field: string } }).error.field).toBe(field);
    }
    expect(await jobCount()).toBe(0);
  });
});
