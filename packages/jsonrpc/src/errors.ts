/**
 * JSON-RPC error codes as JobCenter's server uses them, and the error a method throws to answer
 * with one. An error object on the wire holds exactly `code` and `message`: JobCenter's Perl client
 * refuses one with a `data` member (and then never returns the pending call).
 */

/** The codes this layer answers with. */
export const RpcErrorCode = {
  /** The message is not JSON (or not UTF-8). */
  ParseError: -32700,
  /** JSON, but not a JSON-RPC 2.0 request (a batch included: JobCenter never sends one). */
  InvalidRequest: -32600,
  /** No such method, or not one this server offers. */
  MethodNotFound: -32601,
  /** `params` is not an object (JobCenter's methods all take named parameters). */
  InvalidParams: -32602,
  /** A method failed for a reason of ours; the message says no more than that. */
  InternalError: -32603,
  /** A method's parameter is missing or invalid; the message names it. */
  BadParameter: -32001,
  /** The method needs a successful `hello` first. */
  NeedsHello: -32002,
} as const;

/** Thrown by a method: the caller gets exactly this code and message. */
export class RpcError extends Error {
  override readonly name = 'RpcError';

  constructor(
    readonly code: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    if (!Number.isInteger(code)) throw new RangeError(`a JSON-RPC error code is an integer, got ${code}`);
  }
}

/** An error response to a call we made: the remote peer's code and message. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';

  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** A call we made had no answer in time, or the connection closed before it came. */
export class CallFailedError extends Error {
  override readonly name = 'CallFailedError';
  /**
   * Whether the request went out before the call failed: the peer may then have acted on it
   * (created a job, say) with its answer lost, so a request that is not idempotent must not be
   * repeated blindly. False when it was never sent (the connection was closed already).
   */
  readonly sent: boolean;

  constructor(message: string, options: ErrorOptions & { sent?: boolean } = {}) {
    super(message, options);
    this.sent = options.sent ?? false;
  }
}
