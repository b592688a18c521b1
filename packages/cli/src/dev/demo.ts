/**
 * The demo `drover dev` runs: a few functions and jobs that show what Drover does (a success, a
 * job that fails twice then succeeds, a delayed job, a duplicate uniqkey, a call that waits for its
 * result, some slow jobs to watch, and a workflow that calls an action twice), and a trigger that
 * fires every few seconds. The jobs are
 * remembered in the data folder, so a restarted instance goes on with the same jobs instead of
 * enqueueing new ones; the trigger is found again by its function, so there is only ever one.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Json, NewJob, ProducerStore, Trigger, TriggerStore, WorkflowRunStore, WorkflowUnitStore } from '@drover/core';
import { loadUnits } from '@drover/workflow';
import type { FunctionOptions, Handler } from '@drover/worker';

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });

export const demoFunctions: Record<string, Handler | FunctionOptions> = {
  'demo.greet': async (job) => `Hello, ${(job.arg as { name?: string } | null)?.name ?? 'world'}!`,
  'demo.flaky': {
    handler: async (job) => {
      if (job.failures < 2) throw new Error(`flaky: failing on purpose (${job.failures + 1} of 2)`);
      return 'third time lucky';
    },
    // A demo-sized delay: the default backoff would wait 2, then 4 minutes.
    retryDelayMs: 1000,
    maxRetries: 5,
  },
  // The action the demo workflow (demo.wf) calls: an object out, as an action's `out:` declares.
  'demo.sum': async (job) => {
    const { a, b } = job.arg as { a: number; b: number };
    return { sum: a + b };
  },
  'demo.add': async (job) => {
    const { a, b } = job.arg as { a: number; b: number };
    return a + b;
  },
  // What the demo trigger runs: the time it ran, so each of its jobs shows a different result.
  'demo.tick': async () => `tick at ${new Date().toISOString()}`,
  'demo.slow': {
    handler: async (job) => {
      await sleep((job.arg as { ms: number }).ms, job.signal);
      if (job.signal.aborted) throw job.signal.reason;
      return 'done';
    },
    slots: 2,
  },
};

/** One demo job, and what it shows. */
export interface DemoJob {
  label: string;
  id: string;
  funcname: string;
}

export interface DemoState {
  jobs: DemoJob[];
  /** The id a second enqueue of the unique job returned (the first one's). */
  duplicateOf: string;
  /** The job `call` waits on. */
  callId: string;
}

const DELAY_MS = 3000;

/**
 * The demo's jobs: enqueued now, or read back from a previous run of this data folder. `workflow`:
 * whether to start the demo workflow (not when no engine runs here, DROVER_WORKFLOWS=false).
 */
export async function demoJobs(store: Pick<ProducerStore, 'insertMany'>, dataDir: string, options: { workflow: boolean } = { workflow: true }): Promise<{ state: DemoState; resumed: boolean }> {
  const file = join(dataDir, 'demo.json');
  if (existsSync(file)) return { state: JSON.parse(readFileSync(file, 'utf8')) as DemoState, resumed: true };
  const plan: { label: string; job: NewJob }[] = [
    { label: 'succeeds', job: { funcname: 'demo.greet', arg: { name: 'Drover' } } },
    { label: 'fails twice, then succeeds', job: { funcname: 'demo.flaky' } },
    { label: `delayed ${DELAY_MS / 1000} s`, job: { funcname: 'demo.greet', arg: { name: 'later' }, runAfter: new Date(Date.now() + DELAY_MS) } },
    { label: 'unique (uniqkey demo-once)', job: { funcname: 'demo.greet', arg: { name: 'once' }, uniqkey: 'demo-once' } },
    { label: 'duplicate of the unique one', job: { funcname: 'demo.greet', arg: { name: 'twice?' }, uniqkey: 'demo-once' } },
    { label: 'call: 2 + 3, waited for', job: { funcname: 'demo.add', arg: { a: 2, b: 3 } } },
    ...[1, 2, 3, 4].map((n) => ({ label: `slow ${n}`, job: { funcname: 'demo.slow', arg: { ms: 1500 } } })),
    ...(options.workflow ? [{ label: DEMO_WORKFLOW_LABEL, job: { funcname: DEMO_WORKFLOW, arg: { a: 2, b: 3 } } }] : []),
  ];
  const results = await store.insertMany(plan.map((p) => p.job));
  const state: DemoState = {
    // The duplicate is not a job of its own: it returned the unique job's id.
    jobs: plan.flatMap((p, i) => (p.label.startsWith('duplicate') ? [] : [{ label: p.label, id: results[i]!.id, funcname: p.job.funcname }])),
    duplicateOf: results[4]!.id,
    callId: results[5]!.id,
  };
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2));
  renameSync(`${file}.tmp`, file);
  return { state, resumed: false };
}

/** The demo's workflow (demo.wf), started once with the demo's jobs; its calls of demo.sum are its children. */
export const DEMO_WORKFLOW = 'demo.flow';
const DEMO_WORKFLOW_LABEL = 'workflow demo.flow: (2 + 3) doubled';

/**
 * `demo.wf` sits in src/dev/ of the package: this path reaches it from src/dev/ (run from source)
 * and from dist/dev/ (built) alike, as the store's sql/ is reached.
 */
const DEMO_WF = new URL('../../src/dev/demo.wf', import.meta.url);

/**
 * Loads the demo workflow and its action, unless this namespace already holds this very source
 * (a restart loads nothing new: each load would be a new version). Before the engine starts, so
 * its first look at the stored workflows finds demo.flow.
 */
export async function loadDemoWorkflow(store: Pick<WorkflowUnitStore, 'workflowUnit' | 'listWorkflowUnits' | 'saveWorkflowUnits'> & Pick<WorkflowRunStore, 'jsonSchemas'>): Promise<{ loaded: boolean }> {
  const text = readFileSync(DEMO_WF, 'utf8');
  const current = await store.workflowUnit(DEMO_WORKFLOW);
  if (current?.source === text) return { loaded: false };
  await loadUnits(store, { files: [{ fileName: 'demo.wf', text }] });
  return { loaded: true };
}

/** The call's result, as `drover dev` reports it. */
export type CallOutcome = { result: Json } | { error: string };

/** The demo trigger's function: no other demo job uses it, so its jobs are the trigger's alone. */
export const DEMO_TRIGGER_FUNCNAME = 'demo.tick';
/** Often enough to watch it happen within a minute of starting, rarely enough not to flood the list of jobs. */
export const DEMO_TRIGGER_SPEC = '@every 5s';

/**
 * The demo's trigger: the one a previous run made (found by its function, so a restart, whether
 * or not demo.json survived, makes no second one), or a new one.
 */
export async function demoTrigger(store: Pick<TriggerStore, 'listTriggers' | 'createTrigger'>): Promise<{ trigger: Trigger; created: boolean }> {
  const [existing] = await store.listTriggers({ funcname: DEMO_TRIGGER_FUNCNAME, limit: 1 });
  if (existing) return { trigger: existing, created: false };
  const trigger = await store.createTrigger({ spec: DEMO_TRIGGER_SPEC, funcname: DEMO_TRIGGER_FUNCNAME });
  return { trigger, created: true };
}
