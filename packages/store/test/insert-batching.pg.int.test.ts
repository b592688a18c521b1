/**
 * Role: ProducerStore — `insert`: concurrent single inserts on a pool share statements.
 * PostgreSQL only (the embedded store has one session and does not coalesce).
 */
import { describe, expect, it } from 'vitest';
import { useTestNamespace } from '@drover/testing';

const ns = useTestNamespace();

describe('insert batching', () => {
  it('coalesces concurrent inserts into fewer statements, each call getting its own committed job', async () => {
    await ns.pool.query('CREATE TABLE insert_statements (n int NOT NULL)');
    await ns.pool.query(`CREATE FUNCTION count_insert_statements() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO insert_statements VALUES (1); RETURN NULL; END $$`);
    await ns.pool.query('CREATE TRIGGER count_insert_statements AFTER INSERT ON jobs FOR EACH STATEMENT EXECUTE FUNCTION count_insert_statements()');
    try {
      const results = await Promise.all(Array.from({ length: 200 }, (_, i) => ns.store.insert({ funcname: 'batch.many', arg: { i } })));
      expect(new Set(results.map((r) => r.id)).size).toBe(200);
      expect(results.every((r) => r.inserted)).toBe(true);
      // Every call resolved after its row committed: each id reads back with its own argument.
      const { rows } = await ns.pool.query<{ id: string; i: number }>("SELECT id::text, (arg->>'i')::int AS i FROM jobs WHERE funcname = 'batch.many'");
      const byId = new Map(rows.map((r) => [r.id, r.i]));
      results.forEach((r, i) => expect(byId.get(r.id)).toBe(i));
      const { rows: [count] } = await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM insert_statements');
      expect(count!.n).toBeLessThan(50);
    } finally {
      await ns.pool.query('DROP TRIGGER count_insert_statements ON jobs');
    }
  });

  it('fails only the call whose job the database refuses, not the others of its batch', async () => {
    await ns.pool.query(`CREATE FUNCTION refuse_poison_batch() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.funcname = 'batch.poison' THEN RAISE EXCEPTION 'poison job refused'; END IF; RETURN NEW; END $$`);
    await ns.pool.query('CREATE TRIGGER refuse_poison_batch BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION refuse_poison_batch()');
    try {
      const calls = Array.from({ length: 20 }, (_, i) => ns.store.insert({ funcname: i === 7 ? 'batch.poison' : 'batch.fine' }));
      const settled = await Promise.allSettled(calls);
      expect(settled.map((s) => s.status)).toEqual(Array.from({ length: 20 }, (_, i) => (i === 7 ? 'rejected' : 'fulfilled')));
      expect(String((settled[7] as PromiseRejectedResult).reason)).toMatch(/poison job refused/);
      const { rows: [fine] } = await ns.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM jobs WHERE funcname = 'batch.fine'");
      expect(fine!.n).toBe(19);
    } finally {
      await ns.pool.query('DROP TRIGGER refuse_poison_batch ON jobs');
    }
  });

  it('gives concurrent inserts of one uniqkey one job', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, () => ns.store.insert({ funcname: 'batch.unique', uniqkey: 'k' })));
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results.filter((r) => r.inserted)).toHaveLength(1);
  });
});
