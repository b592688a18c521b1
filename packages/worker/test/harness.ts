/**
 * What the worker's integration tests share: a namespace (schema, exchange, queues) per file, a
 * RabbitMQ broker on it, enqueueing as the relay would (insert, then publish the ids), and workers
 * stopped and queues deleted after the file.
 */
import { afterAll, beforeAll, inject } from 'vitest';
import type { JobWithFailures, NewJob, WorkerStore } from '@drover/core';
import { createAmqpBroker, deleteBrokerNamespace, queueName, type AmqpBroker } from '@drover/broker';
import { useTestNamespace, type TestNamespace } from '@drover/testing';
import { createWorker, type Worker, type WorkerOptions } from '../src/index.js';

export interface WorkerHarness {
  ns: TestNamespace;
  readonly broker: AmqpBroker;
  /** Inserts jobs and publishes their ids, as the relay would. */
  enqueue: (...jobs: NewJob[]) => Promise<string[]>;
  /** Publishes existing jobs' ids again (as the relay would after they became ready again). */
  publish: (funcname: string, ...ids: string[]) => Promise<void>;
  /** Starts a worker on the file's broker (and store, unless given), stopped after the file. */
  startWorker: (options: Omit<WorkerOptions, 'store' | 'broker'> & { store?: WorkerStore }) => Promise<Worker>;
  /** A waitFor condition: the job in a final state (completed, failed, cancelled). */
  finished: (id: string) => () => Promise<JobWithFailures | null>;
  /** The file's queue name of a function. */
  queue: (funcname: string) => string;
}

export function useWorkerHarness(): WorkerHarness {
  const ns = useTestNamespace();
  let broker: AmqpBroker | undefined;
  const funcnames = new Set<string>();
  const workers: Worker[] = [];

  beforeAll(async () => {
    broker = await createAmqpBroker({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, connectionName: `worker-test-${ns.namespace}` });
  });

  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await deleteBrokerNamespace({ url: inject('droverServices').amqpUrl, namespace: ns.namespace, funcnames });
    await broker?.close();
  });

  const harness: WorkerHarness = {
    ns,
    get broker() {
      if (!broker) throw new Error('the broker is ready only inside tests');
      return broker;
    },
    enqueue: async (...jobs) => {
      const ids = (await ns.store.insertMany(jobs)).map((r) => r.id);
      await harness.broker.publish(jobs.map((j, i) => ({ funcname: j.funcname, jobId: ids[i]!, priority: j.priority ?? 0 })));
      return ids;
    },
    publish: async (funcname, ...ids) => {
      await harness.broker.publish(ids.map((jobId) => ({ funcname, jobId, priority: 0 })));
    },
    startWorker: async (options) => {
      for (const f of Object.keys(options.functions)) funcnames.add(f);
      const worker = createWorker({ store: ns.store, broker: harness.broker, ...options });
      workers.push(worker);
      await worker.start();
      return worker;
    },
    finished: (id) => async () => {
      const job = await ns.store.getJob(id);
      return job && ['completed', 'failed', 'cancelled'].includes(job.state) ? job : null;
    },
    queue: (funcname) => queueName(ns.namespace, funcname),
  };
  return harness;
}
