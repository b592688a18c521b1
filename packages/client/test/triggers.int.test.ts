/**
 * The client's trigger functions, on a real PostgreSQL store (`Client`) and over a controller's
 * HTTP API on it (`HttpTriggerApi`): each does what the store does, dates come back as dates, a
 * refusal of the input is the same ValidationError naming the same field with nothing written,
 * and a scope the client lacks is an ApiAccessError.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ValidationError, silentLogger } from '@drover/core';
import { createHttpApi } from '@drover/controller';
import { useTestNamespace } from '@drover/testing';
import { ApiAccessError, HttpTriggerApi, createClient, type TriggerApi } from '../src/index.js';

const ns = useTestNamespace();
let app: FastifyInstance;
let url = '';
let adminToken = '';
let reporterToken = '';

beforeAll(async () => {
  adminToken = (await ns.store.clients.add({ who: 'client-trig-admin', admin: true })).token;
  reporterToken = (await ns.store.clients.add({ who: 'client-trig-reporter', call: ['report.*'] })).token;
  app = createHttpApi({ store: ns.store, clients: ns.store.clients, logger: silentLogger });
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app.close();
});

const triggerCount = async (): Promise<number> => (await ns.store.listTriggers({ limit: 1000 })).length;

/** The two ways a program reaches the triggers. */
const APIS: Record<string, () => TriggerApi> = {
  client: () => createClient({ store: ns.store }),
  http: () => new HttpTriggerApi(url, { token: adminToken }),
};

describe.each(Object.keys(APIS))('trigger functions, %s', (kind) => {
  const api = (): TriggerApi => APIS[kind]!();
  const funcname = `report.${kind}`;

  it('creates, reads, lists, updates, launches, lists the jobs of and deletes a trigger', async () => {
    const created = await api().createTrigger({ spec: '@every 10m', funcname, arg: { k: 1 } });
    expect(created).toMatchObject({ spec: '@every 10m', type: 'every', funcname, arg: { k: 1 }, enabled: true });
    expect(created.nextFireAt).toBeInstanceOf(Date);
    expect(created.createdAt).toBeInstanceOf(Date);

    expect(await api().getTrigger(created.id)).toMatchObject({ id: created.id, nextFireAt: created.nextFireAt });
    expect((await api().listTriggers({ funcname })).map((t) => t.id)).toEqual([created.id]);

    const updated = await api().updateTrigger(created.id, { arg: { k: 2 }, enabled: false });
    expect(updated).toMatchObject({ arg: { k: 2 }, enabled: false });
    expect(await api().enableTrigger(created.id, true)).toMatchObject({ enabled: true });

    const launched = await api().launchTrigger(created.id);
    expect(launched).toMatchObject({ inserted: true, trigger: { fires: 1, lastJobId: launched!.jobId } });
    expect(launched!.trigger.lastFiredAt).toBeInstanceOf(Date);
    expect(await ns.store.getJob(launched!.jobId)).toMatchObject({ funcname, arg: { k: 2 } });
    const jobs = await api().triggerJobs(created.id);
    expect(jobs.map((j) => j.id)).toEqual([launched!.jobId]);
    expect(jobs[0]!.createdAt).toBeInstanceOf(Date);

    expect(await api().deleteTrigger(created.id)).toBe(true);
    expect(await api().deleteTrigger(created.id)).toBe(false);
    expect(await api().getTrigger(created.id)).toBeNull();
    expect(await api().updateTrigger(created.id, { enabled: false })).toBeNull();
    expect(await api().launchTrigger(created.id)).toBeNull();
  });

  it('refuses bad input with a ValidationError naming the field, and writes nothing', async () => {
    const { id } = await api().createTrigger({ spec: '@client', funcname });
    const before = await triggerCount();
    const refusals: [() => Promise<unknown>, string][] = [
      [() => api().createTrigger({ spec: '@cron 61 * * * * *', funcname }), 'spec'],
      [() => api().createTrigger({ spec: '@daily', funcname, timeZone: 'Nowhere/Special' }), 'timeZone'],
      [() => api().createTrigger({ spec: '@every 1h', funcname, debounce: '30s' }), 'debounce'],
      [() => api().updateTrigger(id, { spec: '@in -5s' }), 'spec'],
      [() => api().listTriggers({ limit: 0 }), 'limit'],
    ];
    for (const [call, field] of refusals) {
      const err = await call().then(() => null, (e: unknown) => e);
      expect(err, field).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe(field);
    }
    expect(await triggerCount()).toBe(before);
    expect(await ns.store.getTrigger(id)).toMatchObject({ spec: '@client' });
  });
});

describe('HttpTriggerApi with a scoped client', () => {
  it("works on its functions' triggers, and gets an ApiAccessError for another's", async () => {
    const reporter = new HttpTriggerApi(url, { token: reporterToken });
    const mine = await reporter.createTrigger({ spec: '@client', funcname: 'report.scoped' });
    expect(await reporter.getTrigger(mine.id)).toMatchObject({ funcname: 'report.scoped' });
    const before = await triggerCount();
    const refused = await reporter.createTrigger({ spec: '@client', funcname: 'billing.scoped' }).then(() => null, (e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiAccessError);
    expect((refused as ApiAccessError).status).toBe(403);
    expect(await triggerCount()).toBe(before);
    // Another function's trigger reads as none.
    const other = await ns.store.createTrigger({ spec: '@client', funcname: 'billing.scoped' });
    expect(await reporter.getTrigger(other.id)).toBeNull();
    expect(await reporter.launchTrigger(other.id)).toBeNull();
    expect(await reporter.deleteTrigger(other.id)).toBe(false);
    expect(await ns.store.getTrigger(other.id)).toMatchObject({ fires: 0 });
  });
});
