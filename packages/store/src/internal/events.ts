/**
 * Triggers that fire on something other than time: `@event` triggers when a matching event is
 * raised, `@webhook` triggers when their URL is posted to. Each fire is one transaction: the
 * matched triggers are locked in id order, then one statement inserts their jobs and moves their
 * debounce windows, so an event makes all its jobs or none, and two events for one debounced
 * trigger are decided one after the other (the second sees the window the first opened).
 */
import {
  ValidationError,
  parseEventSelector,
  selectorMatches,
  toJsonText,
  validateEvent,
  type DroverEvent,
  type EventRule,
  type RaisedEvent,
  type WebhookDelivery,
  type WebhookTarget,
} from '@drover/core';
import type { StoreContext } from './context.js';
import type { SqlExecutor } from './executor.js';
import { SQL } from './statements.js';
import { deliver } from './workflow-events.js';

/** A webhook id as newWebhookId makes it: 32 base64url characters. Anything else is refused unread. */
const WEBHOOK_ID = /^[A-Za-z0-9_-]{32}$/;

/**
 * Parsed selectors by their text: every raise matches every enabled selector, and parsing them
 * anew each time would cost more than the match. Bounded, and a selector's meaning never changes.
 */
const selectorCache = new Map<string, EventRule[] | null>();
const SELECTOR_CACHE_MAX = 10_000;

function rulesOf(selector: string): EventRule[] | null {
  let rules = selectorCache.get(selector);
  if (rules === undefined) {
    try {
      rules = parseEventSelector(selector);
    } catch {
      // A stored selector this version refuses (a grammar grown stricter) matches nothing rather
      // than failing every raise.
      rules = null;
    }
    if (selectorCache.size >= SELECTOR_CACHE_MAX) selectorCache.clear();
    selectorCache.set(selector, rules);
  }
  return rules;
}

/** Locks the triggers and fires them with one payload; returns the jobs made. */
async function fire(tx: SqlExecutor, ctx: StoreContext, ids: string[], key: 'event' | 'webhook', payloadJson: string): Promise<string[]> {
  await tx.query(SQL.lockTriggers, [ids]);
  const made = await tx.query<{ job_id: string }>(SQL.fireOnDemand, [ids, key, payloadJson, ctx.now()]);
  return made.map((row) => row.job_id);
}

/**
 * Validates the event (nothing is written for a bad one), then, in one transaction, delivers it to
 * the workflows subscribed to it (workflow-events.ts), matches the enabled `@event` triggers and
 * fires the matched ones: all their jobs and wakeups commit together, or none.
 */
export async function raiseEvent(ctx: StoreContext, input: DroverEvent): Promise<RaisedEvent> {
  const event = validateEvent(input);
  return ctx.db.transaction(async (tx) => {
    // Workflows subscribed to it are woken (or have it queued) in the same transaction as the
    // triggers' jobs: the event's JSON, `{ type, verb, id, doc, oldDoc? }`, is the data masks match.
    await deliver(tx, ctx, event.json);
    const candidates = await tx.query<{ id: string; args: string }>(SQL.eventTriggers, []);
    const matched = candidates.filter((t) => {
      const rules = rulesOf(t.args);
      return rules !== null && selectorMatches(rules, event);
    });
    if (matched.length === 0) return { matched: 0, jobIds: [] };
    const jobIds = await fire(tx, ctx, matched.map((t) => t.id), 'event', event.json);
    return { matched: matched.length, jobIds };
  });
}

/** Null for an id that cannot be one (no lookup), as for an unknown one. */
export async function webhookTarget(ctx: StoreContext, webhookId: string): Promise<WebhookTarget | null> {
  if (typeof webhookId !== 'string' || !WEBHOOK_ID.test(webhookId)) return null;
  const [row] = await ctx.db.query<{ id: string; enabled: boolean; webhook_secret: string | null }>(SQL.webhookTarget, [webhookId]);
  return row ? { triggerId: row.id, enabled: row.enabled, secret: row.webhook_secret } : null;
}

/** The payload a webhook job carries: `{ contentType, body }`, checked as any job arg is. */
function deliveryJson(delivery: WebhookDelivery): string {
  if (typeof delivery !== 'object' || delivery === null) throw new ValidationError('body', 'must be a delivery');
  if (typeof delivery.contentType !== 'string') throw new ValidationError('content-type', 'must be a string');
  // The checks of any job arg: text PostgreSQL can store (no NUL), finite numbers, bounded depth.
  return `{"contentType":${toJsonText(delivery.contentType, 'content-type')},"body":${toJsonText(delivery.body, 'body')}}`;
}

/**
 * Fires the enabled `@webhook` trigger of this id with what it received (checked as any job arg
 * is, naming `body`): one job, or none inside a debounce window. Not found when no enabled
 * trigger has that id.
 */
export async function fireWebhook(ctx: StoreContext, webhookId: string, delivery: WebhookDelivery): Promise<{ found: boolean; jobId: string | null }> {
  const payload = deliveryJson(delivery);
  if (typeof webhookId !== 'string' || !WEBHOOK_ID.test(webhookId)) return { found: false, jobId: null };
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.query<{ id: string; enabled: boolean }>(SQL.webhookTarget, [webhookId]);
    if (!row?.enabled) return { found: false, jobId: null };
    const [jobId = null] = await fire(tx, ctx, [row.id], 'webhook', payload);
    return { found: true, jobId };
  });
}
