/**
 * `drover events raise TYPE VERB DOC-JSON`: raises an event, so that the matching `@event`
 * triggers create their jobs. In PostgreSQL when DATABASE_URL is set, otherwise through the API
 * of the embedded instance (where it needs an admin token, as `POST /events` does). Prints how
 * many triggers matched and the jobs made, or JSON with --json.
 */
import { ValidationError, parseJsonText, validateEvent, type DroverEvent, type RaisedEvent } from '@drover/core';
import type { Config } from '../config.js';
import { printJson } from '../output.js';
import { withApi } from './jobs.js';

export interface RaiseFlags {
  json?: boolean;
  /** The document before the change, as JSON (for UPDATED, which `field:!=` selectors compare). */
  oldDoc?: string;
}

/** The event's fields, named as typed on the command line (`<doc>._id`, `--old-doc`). */
function asArgument(err: unknown): unknown {
  if (!(err instanceof ValidationError)) return err;
  const names: Record<string, string> = { type: '<type>', verb: '<verb>', doc: '<doc>', oldDoc: '--old-doc' };
  const head = /^[A-Za-z]+/.exec(err.field)?.[0] ?? '';
  const name = names[head];
  return name ? new ValidationError(name + err.field.slice(head.length), err.message.replace(`${err.field}: `, ''), { cause: err }) : err;
}

export async function raiseEventCommand(config: Config, type: string, verb: string, docJson: string, flags: RaiseFlags): Promise<void> {
  const event = {
    type,
    verb,
    doc: parseJsonText(docJson, '<doc>'),
    ...(flags.oldDoc === undefined ? {} : { oldDoc: parseJsonText(flags.oldDoc, '--old-doc') }),
  } as DroverEvent;
  let raised: RaisedEvent;
  try {
    // Checked here, so that a bad event is refused before any connection, naming what was typed.
    validateEvent(event);
    raised = await withApi(config, (api) => api.raiseEvent(event));
  } catch (err) {
    throw asArgument(err);
  }
  if (flags.json) return printJson(raised);
  process.stdout.write(`${raised.matched} trigger${raised.matched === 1 ? '' : 's'} matched; ${raised.jobIds.length === 0 ? 'no job created' : `jobs ${raised.jobIds.join(', ')}`}\n`);
}
