/**
 * No role port: `PgJobStore.onClient`, a producer's and a worker's operations on a client the
 * caller holds. PostgreSQL only (an embedded store has no separate client connections).
 */
import { describe, expect, it } from 'vitest';
import { useTestNamespace } from '@drover/testing';
import { insertAndClaim } from './helpers.js';

const ns = useTestNamespace();

describe("a caller's client", () => {
  it("stays all-or-nothing on a caller's client, inside or outside the caller's transaction", async () => {
    await ns.pool.query(`CREATE FUNCTION refuse_poison2() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.funcname = 'out.poison' THEN RAISE EXCEPTION 'poison job refused'; END IF; RETURN NEW; END $$`);
    await ns.pool.query('CREATE TRIGGER refuse_poison2 BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION refuse_poison2()');
    const client = await ns.pool.connect();
    try {
      const onClient = ns.store.onClient(client);
      const outside = await insertAndClaim(ns.store, { funcname: 'out.client' });
      await expect(onClient.replaceWith(outside, [{ funcname: 'out.poison' }])).rejects.toThrow(/poison/);
      expect((await ns.store.getJob(outside.id))?.state).toBe('running');

      const inside = await insertAndClaim(ns.store, { funcname: 'out.client' });
      await client.query('BEGIN');
      const mine = await onClient.insert({ funcname: 'out.callers-own' });
      await expect(onClient.replaceWith(inside, [{ funcname: 'out.poison' }])).rejects.toThrow(/poison/);
      // Only the replace was rolled back: the caller's transaction goes on and commits its own work.
      await client.query('COMMIT');
      expect((await ns.store.getJob(mine.id))?.state).toBe('ready');
      expect((await ns.store.getJob(inside.id))?.state).toBe('running');
    } finally {
      client.release();
      await ns.pool.query('DROP TRIGGER refuse_poison2 ON jobs; DROP FUNCTION refuse_poison2()');
    }
  });

});
