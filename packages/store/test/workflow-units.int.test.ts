/**
 * Loading code (`WorkflowUnitStore`), on PostgreSQL and (in the pglite project) on the embedded
 * database: a load saves its units in one transaction with their signatures, a refused unit
 * anywhere in the load stores none of them, and the reads give the newest version of each name.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ValidationError, type Json, type NewWorkflowUnit } from '@drover/core';
import { useTestNamespace } from '@drover/testing';

const ns = useTestNamespace();
const program: Json = [{ call: 'x' }];
const signature: Json = { name: 'u.add', kind: 'action', in: [{ name: 'x', type: 'number', optional: false }], out: [] };
const count = async (): Promise<number> => (await ns.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM workflow_units')).rows[0]!.n;

describe('workflow unit store', () => {
  it('saves a load in order with signatures, and reads back the newest version of each name', async () => {
    const refs = await ns.store.saveWorkflowUnits([
      { name: 'u.add', kind: 'action', source: 'action u.add:', unit: {}, compiled: null, signature },
      { name: 'u.flow', kind: 'workflow', source: 'v1', unit: {}, compiled: program, signature: { name: 'u.flow', kind: 'workflow', in: [], out: [] } },
    ]);
    expect(refs.map((r) => [r.name, r.kind, r.version])).toEqual([['u.add', 'action', 1], ['u.flow', 'workflow', 1]]);
    const [again] = await ns.store.saveWorkflowUnits([{ name: 'u.flow', kind: 'workflow', source: 'v2', unit: {}, compiled: program }]);
    expect(again!.version).toBe(2);

    const add = await ns.store.workflowUnit('u.add');
    expect(add).toMatchObject({ id: refs[0]!.id, name: 'u.add', kind: 'action', version: 1, signature, source: 'action u.add:' });
    expect(add!.loadedAt).toBeInstanceOf(Date);
    // The newest version, saved without a signature, reads back with none.
    expect(await ns.store.workflowUnit('u.flow')).toMatchObject({ version: 2, source: 'v2', signature: null });
    expect(await ns.store.workflowUnit('u.none')).toBeNull();
    const listed = (await ns.store.listWorkflowUnits()).filter((u) => u.name.startsWith('u.'));
    expect(listed.map((u) => [u.name, u.version])).toEqual([['u.add', 1], ['u.flow', 2]]);
  });

  it('refuses a bad unit anywhere in a load, naming it by index and field, and stores none of the load', async () => {
    const before = await count();
    const good: NewWorkflowUnit = { name: 'all.flow', kind: 'workflow', source: 's', unit: {}, compiled: program };
    const bad = fc.oneof(
      fc.string({ maxLength: 220 }).filter((s) => !/^[A-Za-z0-9_.:-]{1,200}$/.test(s)).map((name) => ({ unit: { ...good, name }, field: 'name' })),
      fc.constant({ unit: { ...good, compiled: null }, field: 'compiled' }),
      fc.constantFrom('\u0000', 'a\uD800b').map((s) => ({ unit: { ...good, signature: { [s]: 1 } }, field: 'signature' })),
      fc.constantFrom('\u0000', 'a\uD800b').map((source) => ({ unit: { ...good, source }, field: 'source' })),
    );
    await fc.assert(
      fc.asyncProperty(fc.nat(3), bad, async (at, { unit, field }) => {
        const units = [good, good, good];
        units.splice(at, 0, unit);
        const err = await ns.store.saveWorkflowUnits(units).then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).field.startsWith(`units[${at}].${field}`)).toBe(true);
      }),
      { numRuns: 100 },
    );
    expect(await count()).toBe(before);
  });

  it('rolls the whole load back when the database refuses a later unit', async () => {
    const before = await count();
    // Input every check passes but the database refuses on the second INSERT, after the first one
    // was written: a trigger stands in for what a racing load's unique violation would do.
    await ns.pool.query("CREATE FUNCTION refuse_second() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.name = 'tx.second' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$");
    await ns.pool.query('CREATE TRIGGER refuse_second BEFORE INSERT ON workflow_units FOR EACH ROW EXECUTE FUNCTION refuse_second()');
    try {
      const units: NewWorkflowUnit[] = [
        { name: 'tx.first', kind: 'action', source: 'a', unit: {}, compiled: null },
        { name: 'tx.second', kind: 'action', source: 'b', unit: {}, compiled: null },
      ];
      await expect(ns.store.saveWorkflowUnits(units)).rejects.toThrow(/refused/);
      expect(await count()).toBe(before);
      expect(await ns.store.workflowUnit('tx.first')).toBeNull();
    } finally {
      await ns.pool.query('DROP TRIGGER refuse_second ON workflow_units');
    }
  });
});
