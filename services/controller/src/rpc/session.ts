/**
 * One JSON-RPC connection's session, as JobCenter runs it: the server greets, the client says
 * `hello` with its credentials, and only then may it call anything but `ping`. A refused hello is
 * answered `[false, reason]` and the connection closes once that answer is out; a connection that
 * has not said hello within the hello timeout is closed; an authenticated peer is pinged and
 * dropped when it stops answering.
 */
import { ValidationError, type Logger } from '@drover/core';
import { CallFailedError, Peer, RpcError, RpcErrorCode, type IncomingCall, type MessageChannel, type MethodHandler, type Params, type TransportKind } from '@drover/jsonrpc';
import type { AuthResult, Authenticate, Credentials } from '../auth/authenticate.js';

/** An authenticated session, as the methods see it. */
export interface Session<TClient> {
  readonly client: TClient;
  readonly who: string;
  readonly address: string;
  readonly transport: TransportKind;
  /** The CN of the client certificate the configured client CA verified (TLS only). */
  readonly certificateCn: string | undefined;
  /** The connection: methods call and notify the client through it (`job_done`, `task_ready`). */
  readonly peer: Peer;
}

/** A method offered to authenticated sessions. */
export type SessionMethod<TClient> = (params: Params, session: Session<TClient>, call: IncomingCall) => unknown;

export interface SessionTimings {
  /** A connection that has not sent a hello after this long is closed. */
  helloTimeoutMs: number;
  /** An authenticated peer is pinged this often… */
  pingIntervalMs: number;
  /** …and dropped when a ping has no answer after this long. */
  pingTimeoutMs: number;
}

export interface SessionOptions<TClient> extends SessionTimings {
  channel: MessageChannel;
  serverName: string;
  authenticate: Authenticate<TClient>;
  /**
   * Checked with each ping: whether the credentials that said hello still hold. A client removed
   * or a token rotated ends the sessions opened with it, as it ends HTTP access at once.
   */
  stillValid?: (credentials: Credentials) => Promise<boolean>;
  methods: ReadonlyMap<string, SessionMethod<TClient>>;
  logger: Logger;
  callTimeoutMs?: number;
  maxInFlight?: number;
}

/** JobCenter's protocol version; its client refuses any other. */
export const PROTOCOL_VERSION = '1.1';
/** Longest `who` taken: names are short, and a hello is not a place to store megabytes. */
const MAX_WHO_LENGTH = 200;
/** Longest token taken; real tokens are a few dozen characters. */
const MAX_TOKEN_LENGTH = 1_000;

type State<T> = { kind: 'new' } | { kind: 'authenticating' } | { kind: 'ready'; session: Session<T> } | { kind: 'refused' };

/** Runs one connection's session from greeting to close. */
export class RpcSession<T> {
  readonly peer: Peer;
  /** When the connection was accepted (get_api_status shows it). */
  readonly since = new Date();
  readonly #options: SessionOptions<T>;
  readonly #log: Logger;
  #state: State<T> = { kind: 'new' };
  #helloTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #pinging = false;
  /** What said hello, kept for {@link SessionOptions.stillValid}. */
  #credentials: Credentials | undefined;

  constructor(options: SessionOptions<T>) {
    this.#options = options;
    const channel = options.channel;
    this.#log = options.logger.child({ address: channel.remoteAddress, transport: channel.transport });
    this.peer = new Peer({
      channel,
      methods: (name) => this.#method(name),
      logger: this.#log,
      ...(options.callTimeoutMs !== undefined ? { callTimeoutMs: options.callTimeoutMs } : {}),
      ...(options.maxInFlight !== undefined ? { maxInFlight: options.maxInFlight } : {}),
    });
    this.peer.onClose((reason) => {
      clearTimeout(this.#helloTimer);
      clearInterval(this.#pingTimer);
      this.#log.debug({ reason }, 'connection closed');
    });
    this.#helloTimer = setTimeout(() => this.close(`no hello within ${options.helloTimeoutMs} ms`), options.helloTimeoutMs);
    this.peer.notify('greetings', { who: options.serverName, version: PROTOCOL_VERSION }).catch(() => undefined);
  }

  /** The authenticated session, once hello succeeded. */
  get session(): Session<T> | null {
    return this.#state.kind === 'ready' ? this.#state.session : null;
  }

  close(reason: string): void {
    this.#log.debug({ reason }, 'closing the connection');
    this.peer.close(reason);
  }

  #method(name: string): MethodHandler | undefined {
    if (name === 'hello') return (params, call) => this.#hello(params, call);
    if (name === 'ping') return () => 'pong';
    const session = this.session;
    if (!session) return needsHello;
    const method = this.#options.methods.get(name);
    return method ? (params, call) => method(params, session, call) : undefined;
  }

  async #hello(params: Params, call: IncomingCall): Promise<[boolean, string]> {
    const credentials = parseHello(params, this.#options.channel);
    if (this.#state.kind !== 'new') throw new RpcError(RpcErrorCode.BadParameter, helloRepeated(this.#state.kind));
    // Set before the first await, so a second hello sent meanwhile is refused, not checked twice.
    // The hello timer runs on: an authenticator that hangs does not keep the connection open.
    this.#state = { kind: 'authenticating' };
    const address = credentials.address;
    let verdict: AuthResult<T>;
    try {
      verdict = await this.#options.authenticate(credentials);
    } catch (err) {
      // Our failure, not the client's: no penalty, and no internals in the answer.
      this.#log.error({ err, who: credentials.who }, 'authentication failed with an error');
      return this.#refuse(call, 'authentication is unavailable; try again later', 'error');
    }
    // The authenticator counts failures per address and refuses a blocked one without checking its token.
    if (!verdict.ok) return this.#refuse(call, verdict.reason, 'refused');
    const channel = this.#options.channel;
    const session: Session<T> = { client: verdict.client, who: credentials.who, address, transport: channel.transport, certificateCn: channel.certificateCn, peer: this.peer };
    this.#state = { kind: 'ready', session };
    this.#credentials = credentials;
    clearTimeout(this.#helloTimer);
    this.#log.info({ who: credentials.who, method: credentials.method }, 'hello');
    this.#startPings();
    return [true, `welcome to ${this.#options.serverName}, ${credentials.who}`];
  }

  #refuse(call: IncomingCall, reason: string, why: string): [false, string] {
    this.#state = { kind: 'refused' };
    this.#log.info({ reason, why }, 'hello refused');
    call.afterReply(() => this.close(`hello refused: ${reason}`));
    return [false, reason];
  }

  /** Pings the peer every interval; one that does not answer in time is dropped. Any answer, even an error, shows it is alive. */
  #startPings(): void {
    const { pingIntervalMs, pingTimeoutMs } = this.#options;
    // The connection may have closed while the authenticator was thinking: then nothing would clear the timer.
    if (this.peer.closed) return;
    this.#pingTimer = setInterval(() => {
      if (this.#pinging || this.peer.closed) return;
      this.#pinging = true;
      this.peer
        .call('ping', {}, { timeoutMs: pingTimeoutMs })
        .then(() => this.#checkStillValid())
        .catch((err: unknown) => {
          if (err instanceof CallFailedError) this.close(`no answer to ping within ${pingTimeoutMs} ms`);
          else this.#log.warn({ err }, 'ping failed');
        })
        .finally(() => {
          this.#pinging = false;
        });
    }, pingIntervalMs);
    this.#pingTimer.unref();
  }

  async #checkStillValid(): Promise<void> {
    const check = this.#options.stillValid;
    if (!check || !this.#credentials || this.peer.closed) return;
    let valid: boolean;
    try {
      valid = await check(this.#credentials);
    } catch (err) {
      // The client store unreachable is not the client's fault: keep the session, ask again next ping.
      this.#log.warn({ err }, 'could not check that the client still exists');
      return;
    }
    if (!valid) this.close('the client was removed or its credentials changed');
  }
}

const needsHello: MethodHandler = (_params, call) => {
  throw new RpcError(RpcErrorCode.NeedsHello, `${call.method.slice(0, 100)}: say hello first`);
};

function helloRepeated(state: State<unknown>['kind']): string {
  return state === 'authenticating' ? 'hello: a hello is already being checked on this connection' : 'hello: this connection has already said hello';
}

/** Checks hello's parameters; a bad one is a -32001 naming it (and counts as no attempt). */
function parseHello(params: Params, channel: MessageChannel): Credentials {
  const { who, method = 'password', token = '' } = params;
  if (typeof who !== 'string' || who === '') throw new ValidationError('who', 'must be a non-empty string');
  if (who.length > MAX_WHO_LENGTH) throw new ValidationError('who', `must be at most ${MAX_WHO_LENGTH} characters`);
  if (typeof method !== 'string' || method === '') throw new ValidationError('method', 'must be a non-empty string, e.g. "password"');
  if (typeof token !== 'string') throw new ValidationError('token', 'must be a string');
  if (token.length > MAX_TOKEN_LENGTH) throw new ValidationError('token', `must be at most ${MAX_TOKEN_LENGTH} characters`);
  return {
    who,
    method,
    token,
    address: channel.remoteAddress,
    ...(channel.certificateCn !== undefined ? { certificateCn: channel.certificateCn } : {}),
  };
}
