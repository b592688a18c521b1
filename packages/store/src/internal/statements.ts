/**
 * Loads the store's SQL. Each statement lives in its own file under `sql/`, opening with its
 * contract (what it does, its parameters, what it returns); a file without one is a bug caught at
 * load time rather than in review.
 */
import { readFileSync, readdirSync } from 'node:fs';

/** A named SQL statement; the name doubles as the prepared-statement name on each connection. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

/** `sql/` sits beside `src/` and `dist/`, so the same relative URL works from source and from a build. */
const SQL_DIR = new URL('../../sql/', import.meta.url);

function load(file: string): Statement {
  const text = readFileSync(new URL(file, SQL_DIR), 'utf8');
  const lines = text.split('\n');
  if (!lines[0]?.startsWith('-- ') || !lines[1]?.startsWith('-- ')) {
    throw new Error(`sql/${file}: a statement file must open with a contract of at least two comment lines`);
  }
  // The prefix keeps these names apart from any prepared statement an application makes on a shared connection.
  return { name: `drover_${file.replace(/\.sql$/, '').replace(/-/g, '_')}`, text };
}

const files = readdirSync(SQL_DIR).filter((f) => f.endsWith('.sql'));
const byFile = new Map(files.map((f) => [f.replace(/\.sql$/, ''), load(f)]));

function get(name: string): Statement {
  const statement = byFile.get(name);
  if (!statement) throw new Error(`sql/${name}.sql is missing`);
  return statement;
}

/** Every runtime statement of the store, by file name. */
export const SQL = {
  insertJobs: get('insert-jobs'),
  findLiveIds: get('find-live-ids'),
  claimNext: get('claim-next'),
  claimCoalesced: get('claim-coalesced'),
  heartbeat: get('heartbeat'),
  completeAndClaim: get('complete-and-claim'),
  fail: get('fail'),
  decline: get('decline'),
  reschedule: get('reschedule'),
  cancel: get('cancel'),
  retry: get('retry'),
  promoteDue: get('promote-due'),
  expiredLeases: get('expired-leases'),
  trimFinished: get('trim-finished'),
  getJob: get('get-job'),
  findJobs: get('find-jobs'),
  countJobs: get('count-jobs'),
  selectReady: get('select-ready'),
  selectStale: get('select-stale'),
  markDispatched: get('mark-dispatched'),
  nextDue: get('next-due'),
  setSearchPath: get('set-search-path'),
  requeueDispatched: get('requeue-dispatched'),
  countLive: get('count-live'),
  announceSleep: get('announce-sleep'),
  announceAwake: get('announce-awake'),
  claimableFuncnames: get('claimable-funcnames'),
  tryLead: get('try-lead'),
  insertJob: get('insert-job'),
  takeIdempotencyKeys: get('take-idempotency-keys'),
  findIdempotencyKeys: get('find-idempotency-keys'),
  repointIdempotencyKeys: get('repoint-idempotency-keys'),
  trimIdempotencyKeys: get('trim-idempotency-keys'),
  insertClient: get('insert-client'),
  listClients: get('list-clients'),
  deleteClient: get('delete-client'),
  rotateClient: get('rotate-client'),
  clientByWho: get('client-by-who'),
  clientByCn: get('client-by-cn'),
  awaitJobs: get('await-jobs'),
  markAwaited: get('mark-awaited'),
  finishedOutcomes: get('finished-outcomes'),
  findJobIds: get('find-job-ids'),
  insertOwners: get('insert-owners'),
  ownedJobs: get('owned-jobs'),
  insertTrigger: get('insert-trigger'),
  getTrigger: get('get-trigger'),
  lockTrigger: get('lock-trigger'),
  listTriggers: get('list-triggers'),
  updateTrigger: get('update-trigger'),
  deleteTrigger: get('delete-trigger'),
  launchTrigger: get('launch-trigger'),
  lockDueTriggers: get('lock-due-triggers'),
  fireTriggers: get('fire-triggers'),
  foldTriggerOutcomes: get('fold-trigger-outcomes'),
  eventTriggers: get('event-triggers'),
  lockTriggers: get('lock-triggers'),
  fireOnDemand: get('fire-on-demand'),
  webhookTarget: get('webhook-target'),
  triggerJobs: get('trigger-jobs'),
  saveWorkflowUnit: get('save-workflow-unit'),
  workflowUnits: get('workflow-units'),
  listWorkflowUnits: get('list-workflow-units'),
  workflowUnit: get('workflow-unit'),
  workflowProgram: get('workflow-program'),
  startWorkflowRun: get('start-workflow-run'),
  resolveWorkflowVersion: get('resolve-workflow-version'),
  insertJobTag: get('insert-job-tag'),
  trimJobTags: get('trim-job-tags'),
  saveJsonSchema: get('save-json-schema'),
  jsonSchemas: get('json-schemas'),
  lockDueRun: get('lock-due-run'),
  takeWakeups: get('take-wakeups'),
  insertChildJob: get('insert-child-job'),
  liveChildren: get('live-children'),
  jobAncestors: get('job-ancestors'),
  saveRun: get('save-run'),
  logStep: get('log-step'),
  deleteRun: get('delete-run'),
  nextWorkflowWake: get('next-workflow-wake'),
  trimWorkflowWakeups: get('trim-workflow-wakeups'),
  workflowSteps: get('workflow-steps'),
  workflowLockGuard: get('workflow-lock-guard'),
  workflowLockRead: get('workflow-lock-read'),
  workflowLockInsert: get('workflow-lock-insert'),
  workflowLockSetBorrowers: get('workflow-lock-set-borrowers'),
  workflowLockDelete: get('workflow-lock-delete'),
  workflowLockReaches: get('workflow-lock-reaches'),
  workflowLockCycle: get('workflow-lock-cycle'),
  workflowLockWait: get('workflow-lock-wait'),
  workflowLockNextWaiter: get('workflow-lock-next-waiter'),
  workflowLockGrant: get('workflow-lock-grant'),
  workflowLocksOf: get('workflow-locks-of'),
  workflowLockCancelWait: get('workflow-lock-cancel-wait'),
  workflowSubscribe: get('workflow-subscribe'),
  workflowUnsubscribe: get('workflow-unsubscribe'),
  workflowEventMatch: get('workflow-event-match'),
  workflowEventDeliver: get('workflow-event-deliver'),
  workflowEventOwn: get('workflow-event-own'),
  workflowEventTake: get('workflow-event-take'),
  workflowEventCancelWait: get('workflow-event-cancel-wait'),
} as const;
