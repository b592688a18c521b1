/**
 * The message channel a JSON-RPC peer runs over: whole text messages in and out, whatever the
 * framing underneath (netstrings on TCP and TLS, one message per WebSocket message).
 */

/** Which transport a channel came in on. */
export type TransportKind = 'tcp' | 'tls' | 'websocket';

/** What a channel tells its one listener. */
export interface ChannelListener {
  /** One whole message, decoded as UTF-8 (invalid UTF-8 arrives as `null`: the peer answers it as a parse error). */
  message(text: string | null): void;
  /** The channel is closed for good; `reason` says why (for the log). Called once. */
  close(reason: string): void;
}

/** One connection, seen as messages. */
export interface MessageChannel {
  readonly transport: TransportKind;
  /** The remote IP address (for throttling and logs). */
  readonly remoteAddress: string;
  /**
   * The common name of the client certificate, present only when the client presented one that the
   * configured client CA verified (TLS only). An unverified certificate gives no name.
   */
  readonly certificateCn: string | undefined;
  /**
   * Starts delivering messages to `listener`. Call it in the tick the channel is handed over (no
   * message arrives before then); a second call throws.
   */
  listen(listener: ChannelListener): void;
  /** Sends one message; resolves once it is handed to the operating system, rejects if the channel closed first. */
  send(text: string): Promise<void>;
  /** Stops reading (backpressure while the peer's handlers are busy). */
  pause(): void;
  resume(): void;
  /**
   * Closes after what was already sent is written; a peer that does not take it within the
   * transport's bound is cut off. Idempotent.
   */
  close(reason: string): void;
}
