/**
 * The logging port. Libraries take a Logger and make children that carry the job's context
 * (`jobId`, `funcname`, `attempt`, `workerId`); only a service's composition root creates the real
 * one (pino satisfies this interface as it is).
 */

/** Structured log method: an object of fields first, then the message. */
export type LogFn = (fields: Record<string, unknown>, message?: string) => void;

/** The subset of pino's API that Drover's libraries use. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
}

const noop: LogFn = () => undefined;

/** A logger that drops everything; the default for libraries used without one. */
export const silentLogger: Logger = Object.freeze({
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
});
