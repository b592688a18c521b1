/**
 * What the engine's integration tests share: a namespace (schema, exchange, queues) per file, a
 * relay that dispatches every job (workflow jobs and their children) through RabbitMQ, workers
 * and engines stopped after each test, and the broker's queues deleted after the file.
 */
import { afterAll, afterEach, expect, inject } from 'vitest';
import type { Broker, Json, JobWithFailures, ManualClock } from '@drover/core';
import { createAmqpBroker, deleteBrokerNamespace } from '@drover/broker';
import { Relay } from '@drover/controller';
import { createWorker, type Worker, type WorkerOptions } from '@drover/worker';
import { useTestNamespace, waitFor, type TestNamespace } from '@drover/testing';
import type { PgJobStore } from '@drover/store';
import { createWorkflowEngine, loadUnits, type LoadedUnit, type LoadedUnits, type Machine, type UnitLoad, type WorkflowEngine, type WorkflowEngineOptions } from '../src/index.js';
import type { ListOp } from './list-machine.js';

export interface EngineHarness {
  ns: TestNamespace;
  /** A broker of its own (a connection per role, as processes would have). */
  broker(name: string): Promise<Broker>;
  /** Stores a list program as a workflow unit. */
  saveWorkflow(name: string, ops: ListOp[]): Promise<void>;
  /** Loads JCL files (and schemas, with a tag) as `drover workflows load` does: loadUnits on the namespace's store. */
  loadFiles(load: UnitLoad): Promise<LoadedUnits>;
  /** Stores loaded JCL units (loadJcl's output), in order, with the version tags given. */
  saveUnits(units: readonly LoadedUnit[], tags?: readonly string[]): Promise<void>;
  startRelay(store?: PgJobStore): Promise<Relay>;
  startWorker(options: Omit<WorkerOptions, 'store' | 'broker'>): Promise<Worker>;
  startEngine(machine: Machine, options?: Partial<WorkflowEngineOptions>): Promise<WorkflowEngine>;
  /** A waitFor condition: the job in a final state. */
  finished(id: string): () => Promise<JobWithFailures | null>;
  /** The ids of a job's children, live or finished. */
  children(parentId: string): Promise<string[]>;
  /** Starts a workflow job on `store` (one with an injected clock), published as the relay would. */
  startOn(store: PgJobStore, funcname: string, arg: Json): Promise<string>;
  /**
   * Checks that the waiting run of `id` wakes exactly at `wakeAt` (ms) on `clock`: its wake time is
   * that, the clock 1 ms short of it wakes nothing over three of the engine's sweeps, and the clock
   * at it finishes the workflow, which is returned.
   */
  wakesExactlyAt(engine: WorkflowEngine, store: PgJobStore, clock: ManualClock, id: string, wakeAt: number): Promise<JobWithFailures>;
  /** A job's step log. */
  stepLog(jobId: string): Promise<{ step: number; kind: string; detail: Json }[]>;
}

export function useEngineHarness(): EngineHarness {
  const ns = useTestNamespace();
  const brokers: Broker[] = [];
  const funcnames = new Set<string>();
  const relays: Relay[] = [];
  const workers: Worker[] = [];
  const engines: WorkflowEngine[] = [];
  let n = 0;

  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.stop()));
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await Promise.all(relays.splice(0).map((r) => r.stop()));
  });

  afterAll(async () => {
    await Promise.all(brokers.splice(0).map((b) => b.close()));
    await deleteBrokerNamespace({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, funcnames });
  });

  const h: EngineHarness = {
    ns,
    broker: async (name) => {
      const made = await createAmqpBroker({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, connectionName: `wf-engine-${name}-${n++}` });
      brokers.push(made);
      return made;
    },
    loadFiles: async (load) => {
      const loaded = await loadUnits(ns.store, load);
      for (const unit of loaded.units) funcnames.add(unit.name);
      return loaded;
    },
    saveUnits: async (units, tags = []) => {
      for (const unit of units) {
        funcnames.add(unit.name);
        await ns.store.saveWorkflowUnit({ name: unit.name, kind: unit.kind, tags, source: unit.source, unit: unit.unit, compiled: unit.compiled });
      }
    },
    saveWorkflow: async (name, ops) => {
      funcnames.add(name);
      await ns.store.saveWorkflowUnit({ name, kind: 'workflow', source: JSON.stringify(ops), unit: ops, compiled: ops });
    },
    startRelay: async (store) => {
      const relay = new Relay({ store: store ?? ns.store, broker: await h.broker('relay'), sweepMs: 200 });
      relays.push(relay);
      await relay.start();
      return relay;
    },
    startWorker: async (options) => {
      for (const f of Object.keys(options.functions)) funcnames.add(f);
      const worker = createWorker({ store: ns.store, broker: await h.broker('worker'), ...options });
      workers.push(worker);
      await worker.start();
      return worker;
    },
    startEngine: async (machine, options = {}) => {
      const engine = createWorkflowEngine({ store: ns.store, broker: await h.broker('engine'), machine, sweepMs: 200, ...options });
      engines.push(engine);
      await engine.start();
      return engine;
    },
    finished: (id) => async () => {
      const job = await ns.store.getJob(id);
      return job && ['completed', 'failed', 'cancelled'].includes(job.state) ? job : null;
    },
    children: async (parentId) => {
      const { rows } = await ns.pool.query<{ id: string }>(
        'SELECT id::text FROM jobs WHERE parent_id = $1 UNION ALL SELECT id::text FROM finished_jobs WHERE parent_id = $1 ORDER BY 1',
        [parentId],
      );
      return rows.map((r) => r.id);
    },
    startOn: async (store, funcname, arg) => {
      const { id } = await store.insert({ funcname, arg });
      await (await h.broker('publisher')).publish([{ funcname, jobId: id, priority: 0 }]);
      return id;
    },
    wakesExactlyAt: async (engine, store, clock, id, wakeAt) => {
      await waitFor(async () => (await ns.pool.query('SELECT 1 FROM workflow_runs WHERE job_id = $1 AND wake_at IS NOT NULL', [id])).rows.length === 1, { what: 'the run to wait' });
      const { rows } = await ns.pool.query<{ wake_at: Date }>('SELECT wake_at FROM workflow_runs WHERE job_id = $1', [id]);
      expect(rows[0]!.wake_at.getTime()).toBe(wakeAt);
      clock.advance(wakeAt - 1 - clock.now().getTime());
      engine.wake();
      // Several sweeps later (each a look for due runs), the workflow still waits.
      const steps = engine.stats.steps;
      const sweeps = engine.stats.passes;
      await waitFor(() => engine.stats.passes >= sweeps + 3, { what: 'three more sweeps' });
      expect(engine.stats.steps).toBe(steps);
      expect((await store.getJob(id))?.state).toBe('running');
      clock.advance(1);
      engine.wake();
      return waitFor(h.finished(id), { what: 'the workflow to wake and finish' });
    },
    stepLog: async (jobId) => (await ns.store.workflowSteps(jobId)).map(({ step, kind, detail }) => ({ step, kind, detail })),
  };
  return h;
}
