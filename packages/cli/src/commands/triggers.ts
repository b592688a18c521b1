/**
 * `drover triggers add|list|show|rm|launch|enable|disable`: the namespace's triggers
 * (docs/triggers.md). With DATABASE_URL, straight in PostgreSQL; without it, through the HTTP API
 * of the embedded instance on DROVER_DATA_DIR, with the local token. Each prints a human answer,
 * or JSON with --json (a webhook trigger's `url` included when the API builds one).
 */
import { formatTable, parseJobId, parseJsonText, parseTriggerFilters, parseWholeNumber, validateNewTrigger, type Job, type NewTrigger, type Trigger, type CatchUpPolicy } from '@drover/core';
import { HttpTriggerApi, type TriggerApi, type TriggerWithUrl } from '@drover/client';
import type { Config } from '../config.js';
import { asOption, renamedAsOptions } from '../option-errors.js';
import { jobsTable, printJson } from '../output.js';
import { withEmbeddedOrStore } from './jobs.js';

function withTriggers<T>(config: Config, fn: (api: TriggerApi) => Promise<T>): Promise<T> {
  return withEmbeddedOrStore<TriggerApi, T>(config, 'triggers', { http: (url, options) => new HttpTriggerApi(url, options), store: (store) => store }, fn);
}

/** The argument or option a trigger field comes from, so an error names what the caller typed. */
const OPTION_NAMES: Readonly<Record<string, string>> = {
  spec: '<spec>',
  funcname: '<funcname>',
  arg: '<arg>',
  priority: '--priority',
  maxRetries: '--max-retries',
  timeoutMs: '--timeout-ms',
  uniqkey: '--uniqkey',
  debounce: '--debounce',
  timeZone: '--time-zone',
  catchUp: '--catch-up',
  enabled: '--disabled',
};



/** A trigger id argument, refused here with the argument named rather than after a round trip. */
const triggerId = (text: string): string => parseJobId(text, '<id>');

const iso = (d: Date | null): string => (d ? d.toISOString() : '-');

export interface AddTriggerFlags {
  priority?: string;
  maxRetries?: string;
  timeoutMs?: string;
  uniqkey?: string;
  debounce?: string;
  timeZone?: string;
  catchUp?: string;
  disabled?: boolean;
  json?: boolean;
}

/** The trigger the command line describes, validated as the store would validate it, before any connection. */
export function triggerFromArgs(spec: string, funcname: string, argText: string | undefined, flags: AddTriggerFlags): NewTrigger {
  const input: NewTrigger = { spec, funcname };
  try {
    if (argText !== undefined) input.arg = parseJsonText(argText, 'arg');
    if (flags.priority !== undefined) input.priority = parseWholeNumber(flags.priority, 'priority', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    if (flags.maxRetries !== undefined) input.maxRetries = parseWholeNumber(flags.maxRetries, 'maxRetries', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    if (flags.timeoutMs !== undefined) input.timeoutMs = parseWholeNumber(flags.timeoutMs, 'timeoutMs', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    if (flags.uniqkey !== undefined) input.uniqkey = flags.uniqkey;
    if (flags.debounce !== undefined) input.debounce = flags.debounce;
    if (flags.timeZone !== undefined) input.timeZone = flags.timeZone;
    // Checked by validateNewTrigger just below, which names the field.
    if (flags.catchUp !== undefined) input.catchUp = flags.catchUp as CatchUpPolicy;
    if (flags.disabled) input.enabled = false;
    validateNewTrigger(input);
  } catch (err) {
    throw asOption(err, OPTION_NAMES);
  }
  return input;
}

/** One line per trigger: what it runs, when, and how it went last. */
export function triggersTable(triggers: Trigger[]): string {
  if (triggers.length === 0) return 'no triggers';
  return formatTable(
    ['id', 'spec', 'funcname', 'enabled', 'next_fire_at', 'fires', 'last_fired_at', 'last_error'],
    triggers.map((t) => [
      t.id,
      t.spec,
      t.funcname,
      t.enabled ? 'yes' : 'no',
      t.done ? 'done' : iso(t.nextFireAt),
      String(t.fires),
      iso(t.lastFiredAt),
      t.lastError?.split('\n')[0]?.slice(0, 60) ?? '-',
    ]),
  );
}

/** A trigger as key/value lines, with its latest jobs under it. */
export function triggerDetails(trigger: TriggerWithUrl, jobs: Job[]): string {
  const fields: [string, string][] = [
    ['id', trigger.id],
    ['spec', trigger.spec],
    ['time_zone', trigger.timeZone],
    ['funcname', trigger.funcname],
    ['arg', JSON.stringify(trigger.arg)],
    ['priority', String(trigger.priority)],
    ['max_retries', String(trigger.maxRetries)],
    ['timeout_ms', trigger.timeoutMs === null ? '-' : String(trigger.timeoutMs)],
    ['uniqkey', trigger.uniqkey ?? '-'],
    ['debounce_ms', trigger.debounceMs === null ? '-' : String(trigger.debounceMs)],
    ['catch_up', trigger.catchUp],
    ['enabled', trigger.enabled ? 'yes' : 'no'],
    ...(trigger.url === undefined ? [] : ([['url', trigger.url]] as [string, string][])),
    ['next_fire_at', trigger.done ? 'done' : iso(trigger.nextFireAt)],
    ['fires', String(trigger.fires)],
    ['last_fired_at', iso(trigger.lastFiredAt)],
    ['last_job_id', trigger.lastJobId ?? '-'],
    ['last_success', trigger.lastSuccessJobId ? `job ${trigger.lastSuccessJobId} at ${iso(trigger.lastSuccessAt)}` : '-'],
    ['last_failure', trigger.lastFailureJobId ? `job ${trigger.lastFailureJobId} at ${iso(trigger.lastFailureAt)}` : '-'],
    ['last_error', trigger.lastError?.split('\n')[0] ?? '-'],
    ['created_at', iso(trigger.createdAt)],
    ['updated_at', iso(trigger.updatedAt)],
  ];
  const width = Math.max(...fields.map(([k]) => k.length));
  const lines = fields.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  lines.push('', `latest jobs:`, jobsTable(jobs));
  return lines.join('\n');
}

/** How many of a trigger's jobs `show` lists. */
const SHOW_JOBS = 10;

export async function addTriggerCommand(config: Config, spec: string, funcname: string, argText: string | undefined, flags: AddTriggerFlags): Promise<void> {
  const input = triggerFromArgs(spec, funcname, argText, flags);
  const trigger = await renamedAsOptions(withTriggers(config, (api) => api.createTrigger(input)), OPTION_NAMES);
  if (flags.json) return printJson(trigger);
  const url = (trigger as TriggerWithUrl).url;
  const when = trigger.nextFireAt ? `; it fires next at ${trigger.nextFireAt.toISOString()}` : trigger.enabled ? '' : '; it is disabled';
  process.stdout.write(`trigger ${trigger.id} added: ${trigger.spec} → ${trigger.funcname}${when}\n${url === undefined ? '' : `its URL: ${url}\n`}`);
}

export interface ListTriggersFlags {
  funcname?: string;
  limit?: string;
  before?: string;
  json?: boolean;
}

export async function listTriggersCommand(config: Config, flags: ListTriggersFlags): Promise<void> {
  const { json: _json, ...filters } = flags;
  const query = parseTriggerFilters(filters, (f) => `--${f}`);
  const triggers = await withTriggers(config, (api) => api.listTriggers(query));
  if (flags.json) printJson(triggers);
  else process.stdout.write(`${triggersTable(triggers)}\n`);
}

export async function showTriggerCommand(config: Config, id: string, json: boolean): Promise<number> {
  const valid = triggerId(id);
  const found = await withTriggers(config, async (api) => {
    const trigger = await api.getTrigger(valid);
    return trigger ? { trigger, jobs: await api.triggerJobs(valid, { limit: SHOW_JOBS }) } : null;
  });
  if (!found) {
    if (json) printJson(null);
    process.stderr.write(`no trigger ${id}\n`);
    return 1;
  }
  if (json) printJson({ ...found.trigger, jobs: found.jobs });
  else process.stdout.write(`${triggerDetails(found.trigger, found.jobs)}\n`);
  return 0;
}

export async function removeTriggerCommand(config: Config, id: string, json: boolean): Promise<number> {
  const valid = triggerId(id);
  const deleted = await withTriggers(config, (api) => api.deleteTrigger(valid));
  if (json) printJson({ id, deleted });
  if (!deleted) {
    process.stderr.write(`no trigger ${id}\n`);
    return 1;
  }
  if (!json) process.stdout.write(`trigger ${id} deleted; the jobs it created run on\n`);
  return 0;
}

export async function launchTriggerCommand(config: Config, id: string, json: boolean): Promise<number> {
  const valid = triggerId(id);
  const launched = await withTriggers(config, (api) => api.launchTrigger(valid));
  if (json) printJson(launched);
  if (!launched) {
    process.stderr.write(`no trigger ${id}\n`);
    return 1;
  }
  if (!json) {
    process.stdout.write(launched.inserted ? `trigger ${id} launched: job ${launched.jobId}\n` : `job ${launched.jobId} already holds the trigger's uniqkey; nothing enqueued\n`);
  }
  return 0;
}

export async function enableTriggerCommand(config: Config, id: string, enabled: boolean, json: boolean): Promise<number> {
  const valid = triggerId(id);
  const trigger = await withTriggers(config, (api) => api.enableTrigger(valid, enabled));
  if (json) printJson(trigger);
  if (!trigger) {
    process.stderr.write(`no trigger ${id}\n`);
    return 1;
  }
  if (!json) {
    const next = enabled && trigger.nextFireAt ? `; it fires next at ${trigger.nextFireAt.toISOString()}` : '';
    process.stdout.write(`trigger ${id} ${enabled ? 'enabled' : 'disabled'}${next}\n`);
  }
  return 0;
}
