/**
 * Names and encodings shared by the adapters. A namespace prefixes every exchange and queue, so
 * tests and tenants on one broker never see each other's messages.
 */
import { PRIORITY_MAX, PRIORITY_MIN, ValidationError } from '@drover/core';

/** RabbitMQ's guidance is at most 10 priority levels: each level costs an internal queue. */
export const BROKER_PRIORITY_LEVELS = 10;

/** The direct exchange that routes each job id to its function's queue. */
export function exchangeName(namespace: string): string {
  return `${namespace}.jobs`;
}

/** The durable queue of one function. */
export function queueName(namespace: string, funcname: string): string {
  return `${namespace}.fn.${funcname}`;
}

/** Maps a job priority (-100..100) onto broker priorities 0..9, keeping the order. */
export function brokerPriority(priority: number): number {
  const clamped = Math.min(PRIORITY_MAX, Math.max(PRIORITY_MIN, priority));
  return Math.round(((clamped - PRIORITY_MIN) / (PRIORITY_MAX - PRIORITY_MIN)) * (BROKER_PRIORITY_LEVELS - 1));
}

/** Validates a prefetch, which doubles as the consumer's concurrency. */
export function checkPrefetch(prefetch: number): number {
  // 65535 is the AMQP limit for basic.qos prefetch-count (a short).
  if (!Number.isInteger(prefetch) || prefetch < 1 || prefetch > 65_535) throw new ValidationError('prefetch', 'must be an integer from 1 to 65535');
  return prefetch;
}
