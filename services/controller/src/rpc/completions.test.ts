/**
 * The completion watcher's fan-out and the job_done rules, on an in-memory stand-in for the
 * store's two caller operations (the real listener is exercised by rpc-calls.int.test.ts): one
 * listener for all waiters, the outcome held until the reply is out, at most one job_done, the
 * short memory of announced ids, and the re-read of every awaited id on (re)connect.
 */
import { describe, expect, it } from 'vitest';
import { silentLogger, type CallerStore, type FinishedEvent, type FinishedOutcome } from '@drover/core';
import type { IncomingCall, Peer } from '@drover/jsonrpc';
import { CompletionWatcher } from './completions.js';
import { sendJobDoneLater } from './methods/job-done.js';

/** The store's side: finished outcomes by id, and the one listener the watcher opens. */
function fakeStore() {
  const finished = new Map<string, FinishedOutcome>();
  const listeners: ((event: FinishedEvent) => void)[] = [];
  let reads = 0;
  const store: Pick<CallerStore, 'listenFinished' | 'finishedOutcomes'> = {
    listenFinished: async (onEvent) => {
      listeners.push(onEvent);
      return { close: async () => undefined };
    },
    finishedOutcomes: async (ids) => {
      reads += 1;
      return ids.flatMap((id) => (finished.has(id) ? [finished.get(id)!] : []));
    },
  };
  return {
    store,
    listeners,
    reads: () => reads,
    finish(id: string, result: FinishedOutcome['result'] = { ok: true }, announce = true) {
      finished.set(id, { id, state: 'completed', result, error: null });
      if (announce) for (const l of listeners) l({ kind: 'finished', ids: [id] });
    },
  };
}

function fakePeer() {
  const sent: unknown[] = [];
  const closers: ((reason: string) => void)[] = [];
  let markSent!: () => void;
  /** Resolves when the first notification is sent. */
  const firstSent = new Promise<void>((resolve) => (markSent = resolve));
  const peer = {
    notify: async (method: string, params: unknown) => {
      sent.push({ method, params });
      markSent();
    },
    onClose: (fn: (reason: string) => void) => void closers.push(fn),
  } as unknown as Peer;
  return { peer, sent, firstSent, close: () => closers.forEach((fn) => fn('closed')) };
}

function fakeCall() {
  const after: (() => void)[] = [];
  const call: IncomingCall = { method: 'create_job', expectsReply: true, afterReply: (fn) => void after.push(fn) };
  return { call, reply: () => after.forEach((fn) => fn()) };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('job_done through the completion watcher', () => {
  it('holds a completion that comes before the reply, then sends it once', async () => {
    const db = fakeStore();
    const watcher = new CompletionWatcher(db.store, silentLogger);
    await watcher.start();
    const { peer, sent } = fakePeer();
    const { call, reply } = fakeCall();
    sendJobDoneLater({ watcher, peer, call, jobId: '7', timeoutS: 0, logger: silentLogger });
    db.finish('7', { sum: 3 });
    await settle();
    expect(sent).toEqual([]);
    reply();
    await settle();
    expect(sent).toEqual([{ method: 'job_done', params: { job_id: 7, outargs: { sum: 3 } } }]);
    expect(watcher.waiting).toBe(0);
  });

  it('fans one announcement out to every connection waiting on the job, and no other', async () => {
    const db = fakeStore();
    const watcher = new CompletionWatcher(db.store, silentLogger);
    await watcher.start();
    const peers = [fakePeer(), fakePeer(), fakePeer()];
    peers.forEach((p, i) => {
      const { call, reply } = fakeCall();
      sendJobDoneLater({ watcher, peer: p.peer, call, jobId: i < 2 ? '1' : '2', timeoutS: 0, logger: silentLogger });
      reply();
    });
    expect(db.listeners).toHaveLength(1);
    db.finish('1');
    await settle();
    expect(peers.map((p) => p.sent.length)).toEqual([1, 1, 0]);
    expect(db.reads()).toBe(1);
  });

  it('sends the timeout once, and nothing when the job finishes later', async () => {
    const db = fakeStore();
    const watcher = new CompletionWatcher(db.store, silentLogger);
    await watcher.start();
    const { peer, sent, firstSent } = fakePeer();
    const { call, reply } = fakeCall();
    sendJobDoneLater({ watcher, peer, call, jobId: '9', timeoutS: 0.001, logger: silentLogger });
    reply();
    await firstSent;
    db.finish('9');
    await settle();
    expect(sent).toEqual([{ method: 'job_done', params: { job_id: 9, outargs: { error: 'timeout' } } }]);
  });

  it('drops the waits of a connection that closes', async () => {
    const db = fakeStore();
    const watcher = new CompletionWatcher(db.store, silentLogger);
    await watcher.start();
    const { peer, sent, close } = fakePeer();
    const { call, reply } = fakeCall();
    sendJobDoneLater({ watcher, peer, call, jobId: '3', timeoutS: 0, logger: silentLogger });
    reply();
    close();
    expect(watcher.waiting).toBe(0);
    db.finish('3');
    await settle();
    expect(sent).toEqual([]);
  });

  it('reads a job announced just before its waiter registered', async () => {
    const db = fakeStore();
    const watcher = new CompletionWatcher(db.store, silentLogger);
    await watcher.start();
    db.finish('5');
    await settle();
    const { peer, sent } = fakePeer();
    const { call, reply } = fakeCall();
    sendJobDoneLater({ watcher, peer, call, jobId: '5', timeoutS: 0, logger: silentLogger });
    reply();
    await settle();
    expect(sent).toEqual([{ method: 'job_done', params: { job_id: 5, outargs: { ok: true } } }]);
  });

  it('re-reads every awaited job when the listener (re)connects', async () => {
    const db = fakeStore();
    const watcher = new CompletionWatcher(db.store, silentLogger);
    await watcher.start();
    const { peer, sent } = fakePeer();
    for (const id of ['11', '12']) {
      const { call, reply } = fakeCall();
      sendJobDoneLater({ watcher, peer, call, jobId: id, timeoutS: 0, logger: silentLogger });
      reply();
    }
    // Finished while the listener was away: no announcement.
    db.finish('11', { lost: true }, false);
    db.listeners[0]!({ kind: 'connected' });
    await settle();
    expect(sent).toEqual([{ method: 'job_done', params: { job_id: 11, outargs: { lost: true } } }]);
    expect(watcher.waiting).toBe(1);
  });
});
