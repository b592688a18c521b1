/**
 * Who may use the HTTP API, over a real socket against a real PostgreSQL store: tokens (401),
 * scopes (403), JSON-only mutations (415), foreign origins (403) and hosts (421), a bare /health,
 * and repeated failures from one address answered 429. Every refusal writes nothing.
 */
import { request as httpRequest } from 'node:http';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBroker } from '@drover/broker';
import { silentLogger } from '@drover/core';
import { useTestNamespace } from '@drover/testing';
import { FailureThrottle, createAuthenticator, createController, createHttpApi, type Controller } from '../src/index.js';

const ns = useTestNamespace();
let controller: Controller;
let port = 0;
let admin = '';
let reporter = '';

beforeAll(async () => {
  admin = (await ns.store.clients.add({ who: 'auth-admin', admin: true })).token;
  reporter = (await ns.store.clients.add({ who: 'reporter', call: ['report.*'] })).token;
  controller = createController({ store: ns.store, clients: ns.store.clients, broker: new MemoryBroker(), http: { port: 0, allowedHosts: ['drover.internal'] }, relay: { sweepMs: 60_000 } });
  await controller.start();
  port = Number(new URL(controller.url!).port);
});
afterAll(async () => {
  await controller.stop();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: { error?: { field?: string; message: string } } & Record<string, unknown>;
}

/** One request with exactly these headers (fetch would not let a test set Host). */
function send(method: string, path: string, options: { token?: string | null; headers?: Record<string, string>; body?: string; port?: number } = {}): Promise<Answer> {
  const token = options.token === undefined ? admin : options.token;
  const headers: Record<string, string> = { host: `127.0.0.1:${options.port ?? port}`, ...(token === null ? {} : { authorization: `Bearer ${token}` }), ...options.headers };
  if (options.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  // Node would send a DELETE's body chunked; say its length, as fetch does.
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: options.port ?? port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, json: text ? (JSON.parse(text) as Answer['json']) : {} }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * Jobs per function, whatever their state: the relay moves jobs from ready to dispatched in the
 * background, and a refusal must add or remove none.
 */
const snapshot = async (): Promise<string> => {
  const perFunction = new Map<string, number>();
  for (const c of await ns.store.counts()) perFunction.set(c.funcname, (perFunction.get(c.funcname) ?? 0) + c.count);
  return JSON.stringify([...perFunction].sort());
};

describe('HTTP API authentication', () => {
  it('refuses a missing, malformed, wrong or unknown token with 401, and writes nothing', async () => {
    const before = await snapshot();
    const body = JSON.stringify({ funcname: 'report.daily' });
    const missing = await send('POST', '/jobs', { token: null, body });
    expect(missing).toMatchObject({ status: 401, json: { error: { field: 'authorization' } } });
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await send('POST', '/jobs', { token: null, headers: { authorization: `Basic ${admin}` }, body })).status).toBe(401);
    expect((await send('POST', '/jobs', { token: 'not-a-token', body })).status).toBe(401);
    // The right token with its last digit changed.
    expect((await send('POST', '/jobs', { token: `${admin.slice(0, -1)}${admin.endsWith('0') ? '1' : '0'}`, body })).status).toBe(401);
    expect((await send('POST', '/jobs', { token: admin.replace('auth-admin', 'nobody'), body })).status).toBe(401);
    expect((await send('GET', '/jobs', { token: 'reporter:wrong-token' })).status).toBe(401);
    expect(await snapshot()).toBe(before);
  });

  it('takes a generated token alone, and a chosen one as who:token', async () => {
    await ns.store.clients.add({ who: 'legacy', token: 'jobcenter-secret', call: ['legacy.*'] });
    expect((await send('POST', '/jobs', { token: 'legacy:jobcenter-secret', body: JSON.stringify({ funcname: 'legacy.job' }) })).status).toBe(201);
    expect((await send('GET', '/jobs?funcname=report.x', { token: reporter })).status).toBe(200);
  });

  it('stops taking a token the moment it is rotated or its client removed', async () => {
    const { token } = await ns.store.clients.add({ who: 'short-lived', call: ['report.*'] });
    expect((await send('GET', '/jobs?funcname=report.x', { token })).status).toBe(200);
    const rotated = await ns.store.clients.rotate('short-lived');
    expect((await send('GET', '/jobs?funcname=report.x', { token })).status).toBe(401);
    expect((await send('GET', '/jobs?funcname=report.x', { token: rotated!.token })).status).toBe(200);
    await ns.store.clients.remove('short-lived');
    expect((await send('GET', '/jobs?funcname=report.x', { token: rotated!.token })).status).toBe(401);
  });

  it('answers /health to anyone, with nothing but ok', async () => {
    const health = await send('GET', '/health', { token: null });
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok' });
    expect((await send('GET', '/status', { token: null })).status).toBe(401);
  });
});

describe('HTTP API scopes', () => {
  it('lets a client enqueue only the functions it may call, and writes nothing of a refused batch', async () => {
    expect((await send('POST', '/jobs', { token: reporter, body: JSON.stringify({ funcname: 'report.daily' }) })).status).toBe(201);
    const before = await snapshot();
    expect(await send('POST', '/jobs', { token: reporter, body: JSON.stringify({ funcname: 'mail.send' }) })).toMatchObject({ status: 403, json: { error: { message: expect.stringContaining('mail.send') } } });
    const batch = JSON.stringify({ jobs: [{ funcname: 'report.a' }, { funcname: 'mail.send' }] });
    expect((await send('POST', '/jobs', { token: reporter, body: batch })).status).toBe(403);
    expect(await snapshot()).toBe(before);
  });

  it("keeps each client's idempotency keys its own: another client's same key is another request", async () => {
    const body = JSON.stringify({ funcname: 'report.keyed', idempotencyKey: 'order-42', runAfter: '2040-01-01T00:00:00Z' });
    const first = (await send('POST', '/jobs', { token: reporter, body })).json as { id: string; inserted: boolean };
    const again = (await send('POST', '/jobs', { token: reporter, body })).json as { id: string; inserted: boolean };
    const theirs = (await send('POST', '/jobs', { token: admin, body })).json as { id: string; inserted: boolean };
    expect(first.inserted).toBe(true);
    expect(again).toEqual({ ...first, inserted: false });
    expect(theirs.inserted).toBe(true);
    expect(theirs.id).not.toBe(first.id);
  });

  it("lets a client read, list, cancel and retry only its own jobs; other clients' jobs, counts, status and clients are for admins", async () => {
    const enqueue = async (token: string, funcname: string): Promise<string> =>
      ((await send('POST', '/jobs', { token, body: JSON.stringify({ funcname, runAfter: '2040-01-01T00:00:00Z' }) })).json as { id: string }).id;
    const ownId = await enqueue(reporter, 'report.weekly');
    const other = await ns.store.insert({ funcname: 'billing.charge', runAfter: '2040-01-01T00:00:00Z' });
    // Same function, but another client's job (an admin's), and one enqueued straight into the database: not the reporter's.
    const peers = [await enqueue(admin, 'report.weekly'), (await ns.store.insert({ funcname: 'report.weekly', runAfter: '2040-01-01T00:00:00Z' })).id];
    expect((await send('GET', `/jobs/${ownId}`, { token: reporter })).status).toBe(200);
    // A job out of reach is answered exactly as an id that does not exist: nothing tells it is there.
    const missing = await send('GET', '/jobs/999999999', { token: reporter });
    for (const id of [other.id, ...peers]) {
      const hidden = await send('GET', `/jobs/${id}`, { token: reporter });
      expect(hidden.status).toBe(404);
      expect(JSON.stringify(hidden.json).replace(id, 'N')).toBe(JSON.stringify(missing.json).replace('999999999', 'N'));
      expect((await send('POST', `/jobs/${id}/cancel`, { token: reporter, body: '{}' })).json).toEqual({ error: { message: `no job ${id}` } });
      expect((await send('POST', `/jobs/${id}/retry`, { token: reporter, body: '{}' })).status).toBe(404);
      expect((await send('POST', `/jobs/${id}/reschedule`, { token: reporter, body: '{"when":"never"}' })).status).toBe(404);
      expect((await ns.store.getJob(id))?.state).toBe('scheduled');
    }
    expect((await send('GET', '/jobs?funcname=billing.charge', { token: reporter })).status).toBe(403);
    expect(((await send('GET', '/jobs?funcname=report.weekly', { token: reporter })).json as unknown as { id: string }[]).map((j) => j.id)).toEqual([ownId]);
    expect(((await send('GET', '/jobs', { token: reporter })).json as unknown as { id: string }[]).map((j) => j.id)).toContain(ownId);
    expect(((await send('GET', '/jobs', { token: reporter })).json as unknown as { id: string }[]).map((j) => j.id)).not.toContain(peers[0]);
    expect(((await send('GET', '/jobs?funcname=report.weekly', { token: admin })).json as unknown as { id: string }[]).map((j) => j.id)).toEqual(expect.arrayContaining([ownId, ...peers]));
    for (const path of ['/stats', '/status', '/clients']) expect((await send('GET', path, { token: reporter })).status, path).toBe(403);
    expect((await send('POST', '/clients', { token: reporter, body: JSON.stringify({ who: 'sneaky', admin: true }) })).status).toBe(403);
    expect((await ns.store.clients.list()).map((c) => c.who)).not.toContain('sneaky');
    expect((await send('POST', `/jobs/${ownId}/cancel`, { token: reporter, body: '{}' })).json).toMatchObject({ cancelled: true });
    expect((await send('POST', `/jobs/${ownId}/retry`, { token: reporter, body: '{}' })).status).toBe(200);
    // An admin may do all of it.
    expect((await send('POST', `/jobs/${other.id}/cancel`, { body: '{}' })).status).toBe(200);
    expect((await send('GET', '/stats')).status).toBe(200);
  });

  it('lets an admin manage clients over HTTP, showing a token only when made and never a hash', async () => {
    const added = await send('POST', '/clients', { body: JSON.stringify({ who: 'via-http', work: ['render.*'] }) });
    expect(added).toMatchObject({ status: 201, json: { client: { who: 'via-http', work: ['render.*'], admin: false }, token: expect.stringMatching(/^drv_via-http_/) } });
    const listed = await send('GET', '/clients');
    expect(JSON.stringify(listed.json)).not.toMatch(/scrypt|token/i);
    expect(await send('POST', '/clients', { body: JSON.stringify({ who: 'via-http' }) })).toMatchObject({ status: 400, json: { error: { field: 'who' } } });
    expect(await send('POST', '/clients', { body: JSON.stringify({ who: 'bad', call: ['a/b'] }) })).toMatchObject({ status: 400, json: { error: { field: 'call[0]' } } });
    const rotated = await send('POST', '/clients/via-http/rotate', { body: '{}' });
    expect(rotated.json.token).not.toBe(added.json.token);
    expect((await send('POST', '/clients/nobody/rotate', { body: '{}' })).status).toBe(404);
    expect((await send('DELETE', '/clients/via-http', { body: '{}' })).json).toEqual({ who: 'via-http', removed: true });
    expect((await send('DELETE', '/clients/via-http', { body: '{}' })).status).toBe(404);
  });
});

describe('HTTP API against web pages', () => {
  it('refuses a form post or any other non-JSON mutation with 415, writing nothing', async () => {
    const live = await ns.store.insert({ funcname: 'report.form', runAfter: '2040-01-01T00:00:00Z' });
    const before = await snapshot();
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/plain']) {
      expect(await send('POST', '/jobs', { headers: { 'content-type': type }, body: 'funcname=report.form' }), type).toMatchObject({ status: 415, json: { error: { field: 'content-type' } } });
      expect((await send('POST', `/jobs/${live.id}/cancel`, { headers: { 'content-type': type }, body: '' })).status, type).toBe(415);
    }
    expect((await send('POST', `/jobs/${live.id}/cancel`)).status).toBe(415);
    expect(await snapshot()).toBe(before);
    expect((await ns.store.getJob(live.id))?.state).toBe('scheduled');
  });

  it("refuses a request from another origin, even with a valid token, and takes the API's own", async () => {
    const live = await ns.store.insert({ funcname: 'report.origin', runAfter: '2040-01-01T00:00:00Z' });
    for (const origin of ['https://evil.example', 'http://127.0.0.1:1', 'null', `https://127.0.0.1:${port}`]) {
      expect(await send('POST', `/jobs/${live.id}/cancel`, { headers: { origin }, body: '{}' }), origin).toMatchObject({ status: 403, json: { error: { field: 'origin' } } });
      expect((await send('GET', `/jobs/${live.id}`, { headers: { origin } })).status, origin).toBe(403);
    }
    expect((await ns.store.getJob(live.id))?.state).toBe('scheduled');
    expect((await send('GET', `/jobs/${live.id}`, { headers: { origin: `http://127.0.0.1:${port}` } })).status).toBe(200);
  });

  it('refuses a Host it does not answer to (DNS rebinding) with 421, and takes loopback, IP addresses and listed names', async () => {
    for (const host of ['evil.example', `attacker.example:${port}`, 'localhost.evil.example', '127.0.0.1.evil.example']) {
      expect(await send('GET', '/jobs', { headers: { host } }), host).toMatchObject({ status: 421, json: { error: { field: 'host' } } });
    }
    expect((await send('GET', '/health', { headers: { host: 'evil.example' } })).status).toBe(421);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, '[::1]', 'drover.internal', `DROVER.internal:${port}`, '10.1.2.3:8080']) {
      expect((await send('GET', '/jobs?limit=1', { headers: { host } })).status, host).toBe(200);
    }
  });
});

describe('repeated failures', () => {
  it('answer 429 once an address failed too often, whatever it sends next, and the limiter says for how long', async () => {
    const throttled = createController({ store: ns.store, clients: ns.store.clients, broker: new MemoryBroker(), http: { port: 0 }, throttle: { failures: 3, windowMs: 60_000, blockMs: 60_000 } });
    await throttled.start();
    try {
      const own = Number(new URL(throttled.url!).port);
      for (let i = 0; i < 3; i++) expect((await send('GET', '/jobs', { port: own, token: 'reporter:wrong-guess' })).status).toBe(401);
      const blocked = await send('GET', '/jobs', { port: own, token: 'reporter:wrong-guess' });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      // Blocked means not even checked: the right token waits out the block too.
      expect((await send('GET', '/jobs', { port: own })).status).toBe(429);
      // The public probe still answers.
      expect((await send('GET', '/health', { port: own, token: null })).status).toBe(200);
    } finally {
      await throttled.stop();
    }
    // The other controller counts its own failures: this address is not blocked there.
    expect((await send('GET', '/jobs?limit=1')).status).toBe(200);
  });

  it('are counted per address by the authenticator the JSON-RPC hello uses, for tokens and certificates alike', async () => {
    await ns.store.clients.add({ who: 'cert-client', certificateCn: 'worker-1.example', work: ['render.*'] });
    const authenticate = createAuthenticator(ns.store.clients, new FailureThrottle({ failures: 2 }));
    // The right certificate for the client it names; then a certificate naming another client, and no certificate at all.
    expect(await authenticate({ who: 'cert-client', method: 'clientcert', certificateCn: 'worker-1.example', address: 'a' })).toMatchObject({ ok: true, client: { who: 'cert-client' } });
    expect(await authenticate({ who: 'reporter', method: 'clientcert', certificateCn: 'worker-1.example', address: 'a' })).toMatchObject({ ok: false });
    expect(await authenticate({ who: 'cert-client', method: 'clientcert', address: 'a' })).toMatchObject({ ok: false });
    // Two failures are allowed; the third blocks the address.
    expect(await authenticate({ who: 'reporter', method: 'password', token: 'wrong-token', address: 'a' })).toMatchObject({ ok: false, retryAfterMs: expect.any(Number) });
    const blocked = await authenticate({ who: 'reporter', method: 'password', token: reporter, address: 'a' });
    expect(blocked).toMatchObject({ ok: false, retryAfterMs: expect.any(Number) });
    expect(await authenticate({ who: 'reporter', method: 'password', token: reporter, address: 'b' })).toMatchObject({ ok: true, client: { who: 'reporter', call: ['report.*'] } });
    expect(await authenticate({ who: 'reporter', method: 'kerberos', token: reporter, address: 'b' })).toMatchObject({ ok: false, reason: expect.stringContaining('method') });
  });

  it('are not outrun by a burst of guesses sent at once: only a few tokens from the address are ever hashed', async () => {
    let hashed = 0;
    const counting = {
      verifyToken: (who: string, token: string) => (hashed++, ns.store.clients.verifyToken(who, token)),
      byCertificateCn: (cn: string) => ns.store.clients.byCertificateCn(cn),
    };
    const authenticate = createAuthenticator(counting, new FailureThrottle({ failures: 3 }));
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => authenticate({ who: 'reporter', method: 'password', token: `guess-${i}`, address: 'burst' })));
    expect(answers.every((a) => !a.ok)).toBe(true);
    expect(answers.filter((a) => !a.ok && a.retryAfterMs !== undefined).length).toBeGreaterThanOrEqual(195);
    // The failures allowed, plus the checks already running when the last of them counted.
    expect(hashed).toBeLessThanOrEqual(3 + 2);
    // A burst of right tokens from a fresh address is served, every one of them, in turn.
    const served = await Promise.all(Array.from({ length: 50 }, () => authenticate({ who: 'reporter', method: 'password', token: reporter, address: 'legit' })));
    expect(served.every((a) => a.ok)).toBe(true);
  });
});

describe('generated bad credentials, hosts and origins', () => {
  it('are all refused, naming what was wrong, and change nothing', async () => {
    const app = createHttpApi({ store: ns.store, clients: ns.store.clients, logger: silentLogger, authenticate: createAuthenticator(ns.store.clients, new FailureThrottle({ failures: 1_000_000 })) });
    await app.ready();
    try {
      const before = await snapshot();
      const post = (headers: Record<string, string>) =>
        app.inject({ method: 'POST', url: '/jobs', headers: { host: '127.0.0.1', 'content-type': 'application/json', authorization: `Bearer ${admin}`, ...headers }, payload: '{"funcname":"report.fuzz"}' });
      const credential = fc.oneof(
        fc.string({ maxLength: 80 }),
        fc.stringMatching(/^drv_[a-z]{1,8}_[0-9a-f]{64}$/),
        fc.tuple(fc.constantFrom('reporter', 'auth-admin', 'nobody'), fc.string({ minLength: 1, maxLength: 40 })).map(([who, token]) => `${who}:${token}`),
      ).filter((c) => c !== admin && c !== reporter);
      await fc.assert(
        fc.asyncProperty(credential, async (c) => {
          const answer = await post({ authorization: `Bearer ${c}` });
          expect(answer.statusCode).toBe(401);
          expect(answer.json()).toMatchObject({ error: { field: 'authorization' } });
        }),
        { numRuns: 60 },
      );
      const foreignHost = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){1,3}$/).filter((h) => h !== 'drover.internal' && isIP(h) === 0);
      await fc.assert(
        fc.asyncProperty(foreignHost, fc.option(fc.integer({ min: 1, max: 65_535 })), async (host, p) => {
          const answer = await post({ host: p === null ? host : `${host}:${p}` });
          expect(answer.statusCode).toBe(421);
          expect(answer.json()).toMatchObject({ error: { field: 'host' } });
        }),
        { numRuns: 200 },
      );
      await fc.assert(
        fc.asyncProperty(fc.webUrl().filter((u) => !u.startsWith('http://127.0.0.1')), async (origin) => {
          const answer = await post({ origin });
          expect(answer.statusCode).toBe(403);
          expect(answer.json()).toMatchObject({ error: { field: 'origin' } });
        }),
        { numRuns: 200 },
      );
      expect(await snapshot()).toBe(before);
    } finally {
      await app.close();
    }
  });
});
