/**
 * Who may act on a job through the API (read it, wait for it, find it, cancel, retry or reschedule
 * it): an admin on any job; any other client only on a job it created itself, and only while it
 * may still call the job's function. A job out of reach is answered as if it did not exist, so
 * that its id, function and existence are not told to a client that may not read it.
 */
import { authorizes, type ApiClient, type CallerStore } from '@drover/core';

export async function mayActOnJob(store: Pick<CallerStore, 'ownedBy'>, client: ApiClient, job: { id: string; funcname: string }): Promise<boolean> {
  if (authorizes(client, 'admin')) return true;
  if (!authorizes(client, 'call', job.funcname)) return false;
  return (await store.ownedBy(client.who, [job.id])).length > 0;
}
