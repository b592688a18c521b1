/**
 * `job_done` to one connection: the notification JobCenter's client waits for after `create_job`
 * (and after `get_job_status` with `notify`). Two rules from the wire contract are kept here:
 * - never before the reply that told the client the job id (its client registers the job only when
 *   that reply arrives, drops an earlier `job_done`, and its `call` then waits for ever): a
 *   completion or a timeout that comes first is held until the reply has been written;
 * - at most once per wait: the job's outcome, or `{"error":"timeout"}` when the caller's timeout
 *   passes first (the job itself goes on), whichever comes first; then the wait is over.
 * A connection that closes drops its waits.
 */
import type { FinishedOutcome, Json, Logger } from '@drover/core';
import type { IncomingCall, Peer } from '@drover/jsonrpc';
import type { CompletionWatcher } from '../completions.js';

/**
 * A connection may wait for this many jobs at once. JobCenter's client waits for one job per
 * `call`; 10,000 covers any pipelining client, and bounds what one connection holds in memory.
 */
export const MAX_WAITS_PER_CONNECTION = 10_000;
/** The longest timeout a timer can hold (2^31-1 ms, about 24.8 days); a longer one is refused. */
export const MAX_TIMEOUT_S = Math.floor(2_147_483_647 / 1000);

/** The outargs a caller is told: JobCenter's shapes (see docs/api.md). */
export function outargsOf(outcome: Pick<FinishedOutcome, 'state' | 'result' | 'error'>): Record<string, Json> {
  if (outcome.state === 'cancelled') return { error: 'cancelled' };
  if (outcome.state === 'failed') return { error: withoutStack(outcome.error) ?? 'failed' };
  const result = outcome.result;
  // outargs are an object on the wire: an object result is sent as it is, anything else wrapped.
  if (result === null) return {};
  if (typeof result === 'object' && !Array.isArray(result)) return result;
  return { result };
}

/**
 * A failure as the worker logged it may end in a stack trace: the caller gets the text before it,
 * which names the error, and not the worker's file paths.
 */
function withoutStack(error: string | null): string | null {
  if (error === null) return null;
  const at = error.search(/\n\s+at /);
  return at === -1 ? error : error.slice(0, at);
}

/**
 * A job id as Drover answers it on this API: a number, as JobCenter's server sends it, while it is
 * exact in a double (below 2^53: at a million jobs a second, 285 years); beyond that a decimal string.
 */
export function wireJobId(id: string): number | string {
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : id;
}

interface Wait {
  cancel(): void;
}

/** The waits of every connection, by peer: one close listener per connection, not one per wait. */
const waitsByPeer = new WeakMap<Peer, Set<Wait>>();

function waitsOf(peer: Peer): Set<Wait> {
  let waits = waitsByPeer.get(peer);
  if (!waits) {
    const created = new Set<Wait>();
    waitsByPeer.set(peer, (waits = created));
    peer.onClose(() => {
      for (const wait of [...created]) wait.cancel();
    });
  }
  return waits;
}

/** Whether the connection may take one more wait. */
export function canWait(peer: Peer): boolean {
  return (waitsByPeer.get(peer)?.size ?? 0) < MAX_WAITS_PER_CONNECTION;
}

export interface SendJobDoneOptions {
  watcher: CompletionWatcher;
  peer: Peer;
  /** The call whose reply must go out first. */
  call: IncomingCall;
  jobId: string;
  /** Seconds; 0 waits for ever. */
  timeoutS: number;
  logger: Logger;
}

/**
 * Sends `job_done` for `jobId` on this connection when the job finishes, or when `timeoutS` passes
 * first, and never before `call`'s reply is out. Returns a function that drops the wait (for a
 * caller that learned the outcome otherwise and answers it in the reply).
 */
export function sendJobDoneLater(options: SendJobDoneOptions): () => void {
  const { watcher, peer, call, jobId, timeoutS, logger } = options;
  const waits = waitsOf(peer);
  let replied = false;
  let held: Record<string, Json> | null = null;
  let done = false;
  let timer: NodeJS.Timeout | undefined;

  const send = (outargs: Record<string, Json>): void => {
    peer.notify('job_done', { job_id: wireJobId(jobId), outargs }).catch((err: unknown) => {
      logger.debug({ jobId, err: (err as Error).message }, 'job_done could not be sent; the connection is gone');
    });
  };
  const finish = (outargs: Record<string, Json>): void => {
    if (done) return;
    wait.cancel();
    if (replied) send(outargs);
    else held = outargs;
  };
  const stopWatching = watcher.watch(jobId, (outcome) => finish(outargsOf(outcome)));
  const wait: Wait = {
    cancel: () => {
      done = true;
      clearTimeout(timer);
      stopWatching();
      waits.delete(wait);
    },
  };
  waits.add(wait);
  if (timeoutS > 0) {
    timer = setTimeout(() => finish({ error: 'timeout' }), timeoutS * 1000);
    timer.unref();
  }
  call.afterReply(() => {
    replied = true;
    if (held) send(held);
  });
  return () => {
    held = null;
    wait.cancel();
  };
}
