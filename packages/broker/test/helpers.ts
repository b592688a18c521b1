/**
 * Helpers for the broker's integration tests: a logger that keeps what it is told, RabbitMQ
 * settings changed at run time and always restored, and a look at a queue from outside.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import type { Logger } from '@drover/core';
import { queueName } from '../src/index.js';

const run = promisify(execFile);

/** rabbitmqctl boots an Erlang VM per call: a few seconds when the machine is busy. */
const CTL_TIMEOUT_MS = 60_000;

/** Runs rabbitmqctl and returns its output. */
export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', [...args, '-q'], { timeout: CTL_TIMEOUT_MS });
  return stdout.trim();
}

/**
 * Sets a `rabbit` application setting for the duration of `fn` and restores what it was (unset,
 * if it was), pass or fail. Channels read most settings when they open, so open them inside `fn`.
 */
export async function withRabbitSetting<T>(key: string, value: number, fn: () => Promise<T>): Promise<T> {
  const before = await rabbitmqctl('eval', `application:get_env(rabbit, ${key}).`);
  const previous = /^\{ok,(.*)\}$/.exec(before)?.[1];
  await rabbitmqctl('eval', `application:set_env(rabbit, ${key}, ${value}).`);
  try {
    return await fn();
  } finally {
    await rabbitmqctl('eval', previous === undefined ? `application:unset_env(rabbit, ${key}).` : `application:set_env(rabbit, ${key}, ${previous}).`);
  }
}

/** One log line as a recording logger kept it. */
export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps every line (children included) in `lines`. */
export function recordingLogger(): Logger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at =
      (level: LogLine['level']) =>
      (fields: Record<string, unknown>, message = ''): void => {
        lines.push({ level, message, fields: { ...bindings, ...fields } });
      };
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more) => make({ ...bindings, ...more }) };
  };
  return Object.assign(make({}), { lines });
}

/** How many consumers a queue has, or null when it does not exist. */
export async function consumersOf(url: string, namespace: string, funcname: string): Promise<number | null> {
  const raw = await amqp.connect(url);
  try {
    const channel = await raw.createChannel();
    channel.on('error', () => undefined);
    try {
      return (await channel.checkQueue(queueName(namespace, funcname))).consumerCount;
    } catch {
      return null;
    }
  } finally {
    await raw.close().catch(() => undefined);
  }
}
