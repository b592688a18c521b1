/**
 * The faults the chaos run injects, one kind at a time: kill -9 of a worker, a controller or a
 * scheduler (each started again at once), RabbitMQ stopped and started, PostgreSQL restarted, the
 * partitionable worker cut off from PostgreSQL or from RabbitMQ through its TCP proxies. Every
 * fault undoes itself before it returns, and `restoreServices` undoes any left half-done.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import type { TcpProxy } from '@drover/testing';
import type { Fleet, FleetProcess } from './fleet.js';

const run = promisify(execFile);

/** The fault kinds, in the order a full run takes them. */
export const FAULT_KINDS = ['kill-worker', 'kill-controller', 'kill-scheduler', 'rabbitmq-restart', 'postgres-restart', 'partition-worker-pg', 'partition-worker-amqp', 'mixed'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** rabbitmqctl and pg_ctlcluster boot or wait for a server: a minute covers a busy machine. */
const CTL_TIMEOUT_MS = 60_000;
/** How long RabbitMQ stays stopped: long enough for every connection to notice. */
const BROKER_DOWN_MS = 2_000;
/** A cut longer than the lease (3 s): the scheduler takes the jobs back, and fencing is exercised. */
const PARTITION_MS = 5_000;

/** What the faults act on, and what they record. */
export interface FaultTarget {
  fleet: Fleet;
  /** The roles' live processes, and how to start a replacement. */
  processes: Record<'worker' | 'controller' | 'scheduler', FleetProcess[]>;
  restart(role: 'worker' | 'controller' | 'scheduler'): FleetProcess;
  /** Pids with a handler running now (a start recorded, no end): a killed worker should hold work. */
  busyPids(): Set<number>;
  /** The partitionable worker's proxies. */
  proxies: { pg: TcpProxy; amqp: TcpProxy; pid(): number };
  /** Deaths and partitions, for explaining extra runs. */
  deaths: { pid: number; at: number }[];
  partitions: { pid: number; from: number; to: number }[];
}

/** Whether a service is stopped by the run right now: restored on exit. */
export const stopped = { broker: false, database: false };

async function ctl(...args: string[]): Promise<void> {
  await run('rabbitmqctl', [...args, '-q'], { timeout: CTL_TIMEOUT_MS });
}

async function pgctl(action: 'start' | 'restart'): Promise<void> {
  const version = readdirSync('/etc/postgresql')[0];
  if (!version) throw new Error('the chaos run needs a Debian PostgreSQL cluster on this machine (/etc/postgresql)');
  await run('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action, ...(action === 'restart' ? ['-m', 'fast'] : [])], { timeout: CTL_TIMEOUT_MS });
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function killRole(t: FaultTarget, role: 'worker' | 'controller' | 'scheduler'): Promise<void> {
  const live = t.processes[role];
  // A worker killed while idle proves nothing: take one with a job in flight when there is one.
  const busy = role === 'worker' ? live.filter((p) => t.busyPids().has(p.pid)) : [];
  const pool = busy.length > 0 ? busy : live;
  const victim = pool[Math.floor(Math.random() * pool.length)];
  if (!victim) return;
  t.deaths.push({ pid: victim.pid, at: Date.now() });
  await t.fleet.kill9(victim);
  live.splice(live.indexOf(victim), 1);
  live.push(t.restart(role));
}

/** Injects one fault of `kind` and undoes it; resolves with the kind actually injected. */
export async function inject(kind: FaultKind, t: FaultTarget): Promise<Exclude<FaultKind, 'mixed'>> {
  switch (kind) {
    case 'kill-worker':
      await killRole(t, 'worker');
      return kind;
    case 'kill-controller':
      await killRole(t, 'controller');
      return kind;
    case 'kill-scheduler':
      await killRole(t, 'scheduler');
      return kind;
    case 'rabbitmq-restart':
      stopped.broker = true;
      await ctl('stop_app');
      await pause(BROKER_DOWN_MS);
      await ctl('start_app');
      await ctl('await_startup');
      stopped.broker = false;
      return kind;
    case 'postgres-restart':
      stopped.database = true;
      await pgctl('restart');
      stopped.database = false;
      return kind;
    case 'partition-worker-pg':
    case 'partition-worker-amqp': {
      const proxy = kind === 'partition-worker-pg' ? t.proxies.pg : t.proxies.amqp;
      const from = Date.now();
      proxy.cut();
      await pause(PARTITION_MS);
      proxy.heal();
      t.partitions.push({ pid: t.proxies.pid(), from, to: Date.now() });
      return kind;
    }
    case 'mixed': {
      const kinds = FAULT_KINDS.filter((k) => k !== 'mixed');
      return inject(kinds[Math.floor(Math.random() * kinds.length)]!, t);
    }
  }
}

/** Starts whatever the run left stopped; safe to call at any time, more than once. */
export async function restoreServices(proxies?: { pg: TcpProxy; amqp: TcpProxy }): Promise<void> {
  proxies?.pg.heal();
  proxies?.amqp.heal();
  if (stopped.broker) {
    await ctl('start_app').catch(() => undefined);
    await ctl('await_startup').catch(() => undefined);
    stopped.broker = false;
  }
  if (stopped.database) {
    await pgctl('start').catch(() => undefined);
    stopped.database = false;
  }
}
