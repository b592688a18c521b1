/**
 * `get_api_status {what}`: what the API serves right now, for an operator. Admin only: it names
 * every connected client, where it connects from and which jobs it holds, which no caller or
 * worker needs to see of the others. A client without `admin` is refused with -32001 (the code
 * JobCenter's server gives a method that will not run with what it was sent), and learns nothing.
 *
 * `what` is one of:
 * - `clients`: the authenticated connections (who, address, transport, since);
 * - `workers`: the connections' remote workers (who, their workernames, actions, slot groups with
 *   their tasks out);
 * - `tasks`: the tasks out (job id, action, worker, since, whether get_task took it);
 * - `jobs`: how many jobs each function has in each state, from the store (live and kept finished);
 * - `stats`: all four in one object.
 *
 * The first three are this controller's own connections: each controller answers for itself.
 */
import { ValidationError, authorizes, type AdminStore, type ApiClient } from '@drover/core';
import { RpcError, RpcErrorCode } from '@drover/jsonrpc';
import type { RemoteWorkers } from '../remote/remote-workers.js';
import { wireJobId } from '../remote/remote-worker.js';
import type { SessionSummary } from '../rpc-server.js';
import type { SessionMethod } from '../session.js';

/** What `get_api_status` reads. */
export interface StatusSources {
  store: Pick<AdminStore, 'counts'>;
  /** The authenticated sessions open now. */
  sessions: () => SessionSummary[];
  remotes: RemoteWorkers;
}

/** The values `what` takes. */
export const STATUS_WHATS = ['clients', 'workers', 'tasks', 'jobs', 'stats'] as const;
export type StatusWhat = (typeof STATUS_WHATS)[number];

/** `get_api_status` for the method table. */
export function statusMethods(sources: StatusSources): Record<string, SessionMethod<ApiClient>> {
  const clients = (): unknown[] =>
    sources.sessions().map((s) => ({ who: s.who, address: s.address, transport: s.transport, since: s.since.toISOString() }));

  const workers = (): unknown[] =>
    sources.remotes.snapshots().map((w) => ({
      who: w.who,
      address: w.address,
      transport: w.transport,
      workernames: [...new Set(w.actions.map((a) => a.workername))],
      actions: w.actions.map((a) => ({ actionname: a.actionname, workername: a.workername, slotgroup: a.slotgroup, filter: a.filter })),
      slotgroups: w.slotgroups.map((g) => ({ name: g.name, slots: g.slots, actions: g.actions, tasks_out: g.tasksOut })),
      tasks_out: w.tasks.length,
    }));

  const tasks = (): unknown[] =>
    sources.remotes.snapshots().flatMap((w) =>
      w.tasks.map((t) => ({
        job_id: wireJobId(t.jobId),
        actionname: t.actionname,
        who: w.who,
        workername: t.workername,
        since: t.since.toISOString(),
        taken: t.taken,
      })),
    );

  /** `{funcname: {state: count}}`: the shape an operator reads at a glance. */
  const jobs = async (): Promise<Record<string, Record<string, number>>> => {
    const out: Record<string, Record<string, number>> = {};
    for (const { funcname, state, count } of await sources.store.counts()) (out[funcname] ??= {})[state] = count;
    return out;
  };

  return {
    get_api_status: async (params, session) => {
      if (!authorizes(session.client, 'admin')) {
        throw new RpcError(RpcErrorCode.BadParameter, `get_api_status: client ${session.who} may not read the API status (it needs the admin scope)`);
      }
      const what = parseWhat(params.what);
      switch (what) {
        case 'clients':
          return clients();
        case 'workers':
          return workers();
        case 'tasks':
          return tasks();
        case 'jobs':
          return jobs();
        case 'stats':
          return { clients: clients(), workers: workers(), tasks: tasks(), jobs: await jobs() };
      }
    },
  };
}

function parseWhat(raw: unknown): StatusWhat {
  if (typeof raw === 'string' && (STATUS_WHATS as readonly string[]).includes(raw)) return raw as StatusWhat;
  throw new ValidationError('what', `must be one of ${STATUS_WHATS.join(', ')}`);
}
