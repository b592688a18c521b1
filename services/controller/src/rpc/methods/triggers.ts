/**
 * Drover's extensions to JobCenter's protocol for triggers (docs/api.md, "Triggers"):
 * `create_trigger`, `list_triggers`, `get_trigger`, `update_trigger`, `delete_trigger`,
 * `launch_trigger` and `trigger_jobs`. They take and answer what the HTTP routes do (a trigger's
 * fields by the same names, the trigger as the same JSON), with the same scopes
 * (http-triggers.ts): `call` on the trigger's function for everything, a trigger out of reach
 * answered as one that does not exist, `admin` on every trigger.
 *
 * A parameter of the wrong shape is a -32001 error naming it, as in JobCenter's methods; so is a
 * scope the client lacks for a function it named itself (as get_api_status refuses a non-admin).
 */
import { ValidationError, authorizes, type ApiClient, type NewTrigger, type Trigger, type TriggerStore } from '@drover/core';
import { RpcError, RpcErrorCode, type Params } from '@drover/jsonrpc';
import type { SessionMethod } from '../session.js';
import { parseWireJobId } from './calls.js';

/** What the trigger methods need of the store. */
export type TriggerMethodsStore = Pick<TriggerStore, 'createTrigger' | 'getTrigger' | 'listTriggers' | 'updateTrigger' | 'deleteTrigger' | 'launchTrigger' | 'triggerJobs'>;

/** Parameters of list_triggers and trigger_jobs: paging, and a function for the listing. */
const PAGE_PARAMS = ['funcname', 'limit', 'before'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Refuses a client that may not call the function it named. */
function requireCall(client: ApiClient, funcname: string, method: string): void {
  if (authorizes(client, 'call', funcname)) return;
  throw new RpcError(RpcErrorCode.BadParameter, `${method}: this client may not use triggers of function ${funcname} (no call scope matches it)`);
}

/** Only these parameters (besides what `allowed` names) are taken; any other is named. */
function onlyParams(params: Params, allowed: readonly string[]): void {
  const extra = Object.keys(params).find((k) => !allowed.includes(k));
  if (extra !== undefined) throw new ValidationError(extra, `is not a parameter of this method; it takes ${allowed.join(', ')}`);
}

/** A page: `limit` (1 to 1000) and `before` (an id), each a number or its decimal string; `funcname` where listed. */
function parsePage(params: Params, withFuncname: boolean): { funcname?: string; limit?: number; beforeId?: string } {
  const page: { funcname?: string; limit?: number; beforeId?: string } = {};
  if (withFuncname && params.funcname !== undefined && params.funcname !== null) {
    if (typeof params.funcname !== 'string') throw new ValidationError('funcname', 'must be a function name');
    page.funcname = params.funcname;
  }
  if (params.limit !== undefined && params.limit !== null) {
    const limit = typeof params.limit === 'string' && /^\d{1,4}$/.test(params.limit) ? Number(params.limit) : params.limit;
    if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > 1000) throw new ValidationError('limit', 'must be a whole number from 1 to 1000');
    page.limit = limit as number;
  }
  if (params.before !== undefined && params.before !== null) page.beforeId = parseWireJobId(params.before, 'before');
  return page;
}

/** The trigger methods, for the method table. */
export function triggerMethods(store: TriggerMethodsStore): Record<string, SessionMethod<ApiClient>> {
  /** The trigger, if it exists and the client may reach it; null otherwise (one answer for both). */
  const reachable = async (client: ApiClient, id: string): Promise<Trigger | null> => {
    const trigger = await store.getTrigger(id);
    return trigger && authorizes(client, 'call', trigger.funcname) ? trigger : null;
  };

  const createTrigger: SessionMethod<ApiClient> = async (params, session) => {
    if (typeof params.funcname === 'string') requireCall(session.client, params.funcname, 'create_trigger');
    // The store validates every field, naming it, before writing anything.
    return store.createTrigger(params as unknown as NewTrigger);
  };

  const listTriggers: SessionMethod<ApiClient> = async (params, session) => {
    onlyParams(params, PAGE_PARAMS);
    const page = parsePage(params, true);
    if (page.funcname !== undefined) requireCall(session.client, page.funcname, 'list_triggers');
    const triggers = await store.listTriggers(page);
    return triggers.filter((t) => authorizes(session.client, 'call', t.funcname));
  };

  const getTrigger: SessionMethod<ApiClient> = async (params, session) => {
    onlyParams(params, ['trigger_id']);
    return reachable(session.client, parseWireJobId(params.trigger_id, 'trigger_id'));
  };

  const updateTrigger: SessionMethod<ApiClient> = async (params, session) => {
    onlyParams(params, ['trigger_id', 'patch']);
    const id = parseWireJobId(params.trigger_id, 'trigger_id');
    if (!isObject(params.patch)) throw new ValidationError('patch', 'must be an object of the trigger fields to change, e.g. {"enabled": false}');
    if (!(await reachable(session.client, id))) return null;
    if (typeof params.patch.funcname === 'string') requireCall(session.client, params.patch.funcname, 'update_trigger');
    return store.updateTrigger(id, params.patch);
  };

  const deleteTrigger: SessionMethod<ApiClient> = async (params, session) => {
    onlyParams(params, ['trigger_id']);
    const id = parseWireJobId(params.trigger_id, 'trigger_id');
    if (!(await reachable(session.client, id))) return false;
    return store.deleteTrigger(id);
  };

  const launchTrigger: SessionMethod<ApiClient> = async (params, session) => {
    onlyParams(params, ['trigger_id']);
    const id = parseWireJobId(params.trigger_id, 'trigger_id');
    if (!(await reachable(session.client, id))) return null;
    return store.launchTrigger(id);
  };

  const triggerJobs: SessionMethod<ApiClient> = async (params, session) => {
    onlyParams(params, ['trigger_id', 'limit', 'before']);
    const id = parseWireJobId(params.trigger_id, 'trigger_id');
    const page = parsePage(params, false);
    if (!(await reachable(session.client, id))) return null;
    // A trigger moved to another function keeps its older jobs: only those of functions the client may call are shown.
    return (await store.triggerJobs(id, page)).filter((job) => authorizes(session.client, 'call', job.funcname));
  };

  return {
    create_trigger: createTrigger,
    list_triggers: listTriggers,
    get_trigger: getTrigger,
    update_trigger: updateTrigger,
    delete_trigger: deleteTrigger,
    launch_trigger: launchTrigger,
    trigger_jobs: triggerJobs,
  };
}
