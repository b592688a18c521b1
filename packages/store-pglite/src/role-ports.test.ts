/**
 * The job store's conformance at the type level: both adapters implement every role port, so a
 * component typed by its roles (a worker by `WorkerStore`, the relay by `RelayStore & Election &
 * WakeSource`) takes either; and the role ports partition `JobStore`, so no operation escapes the
 * split or sits in two roles. The assertions are checked by `npm run typecheck` (the root
 * tsconfig holds every test file); at run time they cost nothing. The behaviour of each role is
 * the store suite in packages/store/test, run on both adapters.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { AdminStore, CallerStore, Election, JobStore, ProducerStore, RelayStore, SchedulerStore, TriggerStore, EventStore, WakeSource, WorkerStore, WorkflowRunStore, WorkflowStore, WorkflowUnitStore } from '@drover/core';
import type { PgJobStore } from '@drover/store';
import type { PgliteJobStore } from './pglite-store.js';

type Roles = [ProducerStore, WorkerStore, RelayStore, SchedulerStore, AdminStore, Election, WakeSource, CallerStore, TriggerStore, EventStore, WorkflowStore, WorkflowRunStore, WorkflowUnitStore];

/** The keys of each member of a union, united (`keyof` of a union would keep only the shared ones). */
type KeysOfEach<U> = U extends unknown ? keyof U : never;
/** Every key that two ports of the list both declare. */
type Overlap<T extends readonly unknown[]> = T extends readonly [infer Head, ...infer Rest] ? (keyof Head & KeysOfEach<Rest[number]>) | Overlap<Rest> : never;

describe('role ports', () => {
  it('PgJobStore implements every role port', () => {
    expectTypeOf<PgJobStore>().toExtend<ProducerStore>();
    expectTypeOf<PgJobStore>().toExtend<WorkerStore>();
    expectTypeOf<PgJobStore>().toExtend<RelayStore>();
    expectTypeOf<PgJobStore>().toExtend<SchedulerStore>();
    expectTypeOf<PgJobStore>().toExtend<AdminStore>();
    expectTypeOf<PgJobStore>().toExtend<Election>();
    expectTypeOf<PgJobStore>().toExtend<WakeSource>();
    expectTypeOf<PgJobStore>().toExtend<CallerStore>();
    expectTypeOf<PgJobStore>().toExtend<TriggerStore>();
    expectTypeOf<PgJobStore>().toExtend<EventStore>();
    expectTypeOf<PgJobStore>().toExtend<WorkflowStore>();
    expectTypeOf<PgJobStore>().toExtend<WorkflowRunStore>();
    expectTypeOf<PgJobStore>().toExtend<WorkflowUnitStore>();
    expectTypeOf<PgJobStore>().toExtend<JobStore>();
  });

  it('PgliteJobStore implements every role port', () => {
    expectTypeOf<PgliteJobStore>().toExtend<ProducerStore>();
    expectTypeOf<PgliteJobStore>().toExtend<WorkerStore>();
    expectTypeOf<PgliteJobStore>().toExtend<RelayStore>();
    expectTypeOf<PgliteJobStore>().toExtend<SchedulerStore>();
    expectTypeOf<PgliteJobStore>().toExtend<AdminStore>();
    expectTypeOf<PgliteJobStore>().toExtend<Election>();
    expectTypeOf<PgliteJobStore>().toExtend<WakeSource>();
    expectTypeOf<PgliteJobStore>().toExtend<CallerStore>();
    expectTypeOf<PgliteJobStore>().toExtend<TriggerStore>();
    expectTypeOf<PgliteJobStore>().toExtend<EventStore>();
    expectTypeOf<PgliteJobStore>().toExtend<WorkflowStore>();
    expectTypeOf<PgliteJobStore>().toExtend<WorkflowRunStore>();
    expectTypeOf<PgliteJobStore>().toExtend<WorkflowUnitStore>();
    expectTypeOf<PgliteJobStore>().toExtend<JobStore>();
  });

  it('JobStore is the role ports and close(), each operation in exactly one role', () => {
    expectTypeOf<Exclude<keyof JobStore, KeysOfEach<Roles[number]>>>().toEqualTypeOf<'close'>();
    expectTypeOf<Overlap<Roles>>().toBeNever();
  });
});
