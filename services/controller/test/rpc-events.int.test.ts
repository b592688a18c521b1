/**
 * raise_event (Drover's extension to JobCenter's protocol) against the real PostgreSQL and
 * RabbitMQ, through a real socket: an admin's event creates the matching triggers' jobs; a client
 * without admin is refused with -32001 and nothing is written; bad parameters are -32001 errors
 * naming them, and write nothing.
 */
import { describe, expect, it } from 'vitest';
import { useRpcController } from './rpc-controller-harness.js';

const { ns, connect } = useRpcController({ 're-admin': { admin: true }, 're-caller': { call: ['*'] } });

async function jobCount(): Promise<number> {
  const { rows } = await ns.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM (SELECT id FROM jobs WHERE funcname LIKE 're.%' UNION ALL SELECT id FROM finished_jobs WHERE funcname LIKE 're.%') j");
  return rows[0]!.n;
}

describe('raise_event', () => {
  it("creates the matching triggers' jobs for an admin, and answers their ids", async () => {
    await ns.store.createTrigger({ spec: '@event io.cozy.contacts:UPDATED:!=:email', funcname: 're.changed' });
    await ns.store.createTrigger({ spec: '@event io.cozy.contacts:CREATED', funcname: 're.created' });
    const admin = await connect('re-admin');
    const reply = await admin.call('raise_event', { type: 'io.cozy.contacts', verb: 'UPDATED', doc: { _id: 'c1', email: 'b@x' }, old_doc: { _id: 'c1', email: 'a@x' } });
    expect(reply.error).toBeUndefined();
    const result = reply.result as { matched: number; job_ids: number[] };
    expect(result.matched).toBe(1);
    expect(result.job_ids).toHaveLength(1);
    expect(typeof result.job_ids[0]).toBe('number');
    expect(await ns.store.getJob(String(result.job_ids[0]))).toMatchObject({ funcname: 're.changed', arg: { event: { id: 'c1', oldDoc: { email: 'a@x' } } } });
  });

  it('refuses a client without admin, and bad parameters naming them; none writes', async () => {
    const before = await jobCount();
    const caller = await connect('re-caller');
    const refused = await caller.call('raise_event', { type: 'io.cozy.contacts', verb: 'CREATED', doc: { _id: 'c2' } });
    expect(refused.error?.code).toBe(-32001);
    expect(refused.error?.message).toContain('admin');
    const admin = await connect('re-admin');
    for (const [params, field] of [
      [{ verb: 'CREATED', doc: { _id: 'c' } }, 'type'],
      [{ type: 'io.cozy.contacts', verb: 'created', doc: { _id: 'c' } }, 'verb'],
      [{ type: 'io.cozy.contacts', verb: 'CREATED', doc: { name: 'x' } }, 'doc._id'],
      [{ type: 'io.cozy.contacts', verb: 'UPDATED', doc: { _id: 'c' }, old_doc: 5 }, 'old_doc'],
      [{ type: 'io.cozy.contacts', verb: 'CREATED', doc: { _id: 'c' }, extra: 1 }, 'extra'],
    ] as const) {
      const reply = await admin.call('raise_event', params);
      expect(reply.error?.code, JSON.stringify(reply)).toBe(-32001);
      expect(reply.error?.message.startsWith(`${field}:`), reply.error?.message).toBe(true);
    }
    expect(await jobCount()).toBe(before);
  });
});
