/**
 * @drover/core — the leaf of Drover: job types and states, validation, the retry policy, the
 * clock, the error taxonomy, the logger interface and the ports (the job store's role ports and
 * their union `JobStore`; the broker; worker presence) and the presence heartbeat loop. No I/O.
 *
 * @example
 * ```ts
 * import { backoffDelayMs, retryPolicy, validateNewJob, ManualClock } from '@drover/core';
 *
 * const job = validateNewJob({ funcname: 'email.send', arg: { to: 'a@example.com' } });
 * const delay = backoffDelayMs(3, retryPolicy({ jitter: 0 })); // 8 minutes
 * const clock = new ManualClock(); clock.advance(delay);
 * ```
 */
export {
  DEFAULT_MAX_RETRIES,
  FINISHED_STATES,
  JOB_STATES,
  LIVE_STATES,
  MAX_RETRIES_LIMIT,
  PRIORITY_MAX,
  PRIORITY_MIN,
  isLiveState,
  type ClaimedJob,
  type FinishedState,
  type Job,
  type JobFailure,
  type JobState,
  type JobWithFailures,
  type Json,
  type LiveState,
  type NewJob,
} from './job.js';
export { DEFAULT_RETRY_POLICY, backoffDelayMs, retryPolicy, type RetryPolicy } from './backoff.js';
export { ManualClock, systemClock, type Clock } from './clock.js';
export { DURATION_MAX_MS, formatDuration, parseDuration } from './duration.js';
export {
  EVENT_MAX_BYTES,
  EVENT_VERBS,
  checkEventType,
  parseEventSelector,
  selectorMatches,
  validateEvent,
  type DroverEvent,
  type EventRule,
  type EventVerb,
  type ValidEvent,
} from './event.js';
export { triggerAsNew, validateNewTrigger, type NewTrigger, type Trigger, type TriggerPatch, type ValidTrigger } from './trigger.js';
export {
  CATCH_UP_MAX_PER_PASS,
  CATCH_UP_POLICIES,
  LATE_GRACE_MS,
  TRIGGER_TYPES,
  checkTimeZone,
  firstFireAt,
  parseTriggerSpec,
  planFires,
  type CatchUpPolicy,
  type FirePlan,
  type ParsedTriggerSpec,
  type TriggerSchedule,
  type TriggerType,
} from './trigger-schedule.js';
export {
  ConflictError,
  Decline,
  DroverError,
  InfrastructureError,
  LeaseLostError,
  PermanentFailure,
  ValidationError,
  isRetryableInfrastructureError,
} from './errors.js';
export { silentLogger, type LogFn, type Logger } from './logger.js';
export { FlowControlUnavailable, type FlowAnswer, type FlowControl, type Place, type RateLimit, type StartsAnswer } from './flow-control.js';
export { Waker } from './waker.js';
export { Batcher } from './batcher.js';
export { decodeJobId, encodeJobId } from './message.js';
export { formatTable } from './table.js';
export {
  DATE_MAX,
  DATE_MIN,
  FUNCNAME_PATTERN,
  JSON_MAX_DEPTH,
  checkStorableText,
  toJsonText,
  unstorableDateReason,
  unstorableTextReason,
  validateFuncname,
  validateNewJob,
  validateNewJobs,
  type ValidJob,
} from './validate.js';
export {
  FIND_LIMIT_MAX,
  JOB_FILTERS,
  parseJobFilters,
  parseJobId,
  parseJsonText,
  parseRescheduleWhen,
  parseTriggerFilters,
  parseWholeNumber,
  TRIGGER_FILTERS,
  type JobFilter,
  type TriggerFilter,
} from './input.js';
export {
  CLIENT_NAME_PATTERN,
  GENERATED_TOKEN_PREFIX,
  authorizes,
  credentialOf,
  validateCertificateCn,
  validateClientName,
  validateScopePatterns,
  type ClientScope,
} from './clients.js';
export type {
  AdminStore,
  CallerStore,
  ClaimOptions,
  CompleteAndClaimInput,
  CompleteInput,
  DeclineInput,
  DispatchCandidate,
  DispatchOptions,
  DispatchResult,
  Election,
  FailInput,
  FailResult,
  FindJobIdsOptions,
  FindJobsQuery,
  FinishedEvent,
  FinishedOutcome,
  FireResult,
  FoundJobId,
  Grab,
  InsertResult,
  InsertOptions,
  JobCount,
  JobStore,
  LeadOptions,
  Leadership,
  ListTriggersQuery,
  TriggerJobsQuery,
  NextDue,
  OutcomeResult,
  ProducerStore,
  RelayStore,
  RescheduleWhen,
  SchedulerStore,
  TriggerStore,
  EventStore,
  RaisedEvent,
  WebhookDelivery,
  WebhookTarget,
  WakeSource,
  WorkerStore,
  WorkflowStore,
} from './ports.js';
export type {
  NamedJsonSchema,
  NewWorkflowUnit,
  WorkflowEnd,
  WorkflowProgram,
  WorkflowRun,
  WorkflowRunUpdate,
  WorkflowStepTx,
  WorkflowRunStore,
  WorkflowUnitStore,
  StoredWorkflowUnit,
  WorkflowUnitKind,
  WorkflowUnitRef,
  WorkflowWakeup,
} from './workflow-run-ports.js';
export { listedWorkflowUnit, validateWorkflowTag } from './workflow-run-ports.js';
export {
  validateAncestors,
  validateLockKey,
  validateMask,
  validateSubscriptionName,
  validateSubscriptionNames,
  validateWorkflowEventData,
  type RaisedWorkflowEvent,
  type WorkflowEventRecord,
  type WorkflowEventStore,
  type WorkflowLockAnswer,
  type WorkflowLockHolder,
  type WorkflowLockOptions,
  type WorkflowLockStore,
} from './workflow-ports.js';
export { validateWorkerPresence, type LiveWorker, type Presence, type WorkerKind, type WorkerPresence } from './presence-port.js';
export { DEFAULT_HEARTBEAT_MS, MISSED_HEARTBEATS, PresenceHeartbeat, heartbeatInterval, type PresenceOptions } from './presence-heartbeat.js';
export type {
  Broker,
  Delivery,
  Dispatch,
  Subscription,
} from './broker-port.js';
export type {
  ApiClient,
  ApiClientStore,
  IssuedToken,
  NewApiClient,
} from './client-ports.js';
