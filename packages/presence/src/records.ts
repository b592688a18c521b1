/**
 * A presence record as the adapters store it: JSON with dates as ISO 8601 text, read back into a
 * {@link WorkerPresence}. A record that does not parse is skipped by `list`, never thrown: one bad
 * writer (another version, a hand edit) must not hide the rest of the fleet.
 */
import type { WorkerPresence } from '@drover/core';

export function encodeRecord(worker: WorkerPresence, seenAt: Date): string {
  return JSON.stringify({ ...worker, functions: [...worker.functions].sort(), startedAt: worker.startedAt.toISOString(), seenAt: seenAt.toISOString() });
}

/** The record and when it was written, or null when the text is not a record. */
export function decodeRecord(text: string): { worker: WorkerPresence; seenAt: Date } | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const startedAt = new Date(String(v.startedAt));
  const seenAt = new Date(String(v.seenAt));
  if (typeof v.id !== 'string' || (v.kind !== 'shim' && v.kind !== 'remote') || Number.isNaN(startedAt.getTime()) || Number.isNaN(seenAt.getTime())) return null;
  return {
    worker: {
      id: v.id,
      kind: v.kind,
      client: typeof v.client === 'string' ? v.client : null,
      host: typeof v.host === 'string' ? v.host : '',
      pid: typeof v.pid === 'number' ? v.pid : null,
      functions: Array.isArray(v.functions) ? v.functions.filter((f): f is string => typeof f === 'string') : [],
      slots: typeof v.slots === 'number' ? v.slots : 0,
      running: typeof v.running === 'number' ? v.running : 0,
      version: typeof v.version === 'string' ? v.version : '',
      startedAt,
    },
    seenAt,
  };
}
