/**
 * A client of Drover's JSON-RPC API (JobCenter's protocol): one long-lived connection over which
 * it calls functions and waits for their results, and works actions as a remote worker.
 *
 * The connection comes back by itself: when it drops (the controller restarted, the network
 * failed, the server stopped answering pings), the client connects again with exponential backoff
 * and jitter, says hello, recreates its slot groups, announces its actions again, and asks for the
 * outcome of every job a `call` still waits for (`get_job_status` with `notify`), so a call made
 * before the drop still returns. Only `close()` ends it.
 */
import { ValidationError, silentLogger, type Json, type Logger } from '@drover/core';
import { CallFailedError, Peer, connectTcp, connectTls, connectWebSocket, type MessageChannel, type Params } from '@drover/jsonrpc';
import type { ConnectionOptions } from 'node:tls';
import { AuthError, CallError, CallTimeoutError, errorText, isFailure } from './errors.js';
import { WorkerSide, checkAnnounced, type TaskHandler, type WorkOptions } from './internal/worker-side.js';
import { parseApiUrl, type ApiAddress } from './url.js';

export interface ConnectApiOptions {
  /** `tcp://host:6522`, `tls://host:port` or `ws://host:8080/rpc` (`wss://` too). */
  url: string;
  /** The API client's name (`drover clients add NAME`). */
  who: string;
  /** Its token. Not needed with `method: 'clientcert'`. */
  token?: string;
  /** `password` (a token, the default) or `clientcert` (TLS: the certificate's CN names the client). */
  method?: 'password' | 'clientcert';
  /** TLS options for `tls://` and `wss://`: a CA to trust, a client certificate and key, … */
  tls?: Omit<ConnectionOptions, 'host' | 'port' | 'socket'>;
  logger?: Logger;
  /** Backoff between reconnection attempts; `false`: a dropped connection stays down (calls then fail). */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number } | false;
  /** A request other than `call`'s wait (create_job, get_job_status, announce, …) fails after this long. */
  requestTimeoutMs?: number;
  /** The client pings the server this often and drops a connection whose ping goes unanswered; 0: never. */
  pingIntervalMs?: number;
  connectTimeoutMs?: number;
}

/** Options of one `call`. */
export interface CallOptions {
  /** Seconds to wait for the result; 0: no limit. Default {@link DEFAULT_CALL_TIMEOUT_S}. */
  timeoutS?: number;
}

/** What `getJobStatus` tells: not finished yet, or finished with its outargs. */
export type JobStatus = { finished: false } | { finished: true; outargs: Record<string, Json> };

/** JobCenter's client waits 300 s for a call by default (five times its connection timeout); so does this one. */
export const DEFAULT_CALL_TIMEOUT_S = 300;
/** A request is a round trip to the controller and a statement or two: 30 s means the server is gone. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** 30 s: half the server's own ping interval, so a dead connection is noticed within a minute on either side. */
export const DEFAULT_PING_INTERVAL_MS = 30_000;
/** The first retry comes quickly (a restarting controller is back in a second or two)… */
export const DEFAULT_RECONNECT_MIN_MS = 100;
/** …and retries never wait longer than this, so a client finds its controller soon after it returns. */
export const DEFAULT_RECONNECT_MAX_MS = 10_000;
/** The server greets at once; 10 s without a greeting is not a Drover (or JobCenter) API. */
const GREETING_TIMEOUT_MS = 10_000;
/** `job_done` notifications kept for jobs nobody waits for yet (one may arrive before its create_job reply is read). */
const EARLY_OUTCOMES = 1_000;
/** JobCenter's protocol version, the only one its clients accept. */
const PROTOCOL_VERSION = '1.1';

interface Waiter {
  funcname: string;
  resolve(outargs: Record<string, Json>): void;
  reject(err: Error): void;
}

/** Connects, says hello, and resolves with a ready client; rejects if the first connection or hello fails. */
export async function connectApi(options: ConnectApiOptions): Promise<RpcClient> {
  const client = new RpcClient(options);
  await client.open();
  return client;
}

/** A connection to Drover's JSON-RPC API; made by {@link connectApi}. */
export class RpcClient {
  readonly #options: ConnectApiOptions;
  readonly #address: ApiAddress;
  readonly #log: Logger;
  readonly #worker: WorkerSide;
  readonly #waits = new Map<string, Waiter[]>();
  readonly #early = new Map<string, Record<string, Json>>();
  readonly #readyWaiters: ((peer: Peer | Error) => void)[] = [];
  #peer: Peer | null = null;
  #pingTimer: NodeJS.Timeout | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #sessions = 0;

  /** Use {@link connectApi}: it also opens the first connection. */
  constructor(options: ConnectApiOptions) {
    if (typeof options.who !== 'string' || options.who === '') throw new ValidationError('who', 'must be the API client\'s name');
    if ((options.method ?? 'password') === 'password' && (typeof options.token !== 'string' || options.token === '')) {
      throw new ValidationError('token', 'must be the API client\'s token (or use method: "clientcert")');
    }
    this.#address = parseApiUrl(options.url);
    this.#options = options;
    this.#log = (options.logger ?? silentLogger).child({ component: 'rpc-client', who: options.who });
    this.#worker = new WorkerSide(this.#log, options.who);
  }

  /** Whether a session is up now, and how many sessions (hello and restore done) this client has had. */
  status(): { connected: boolean; sessions: number } {
    return { connected: this.#peer !== null, sessions: this.#sessions };
  }

  /**
   * Calls `funcname` with `inargs` and resolves with its outargs; rejects with {@link CallError}
   * when the job fails, {@link CallTimeoutError} after `timeoutS`. A call whose job was created
   * waits across reconnections; one whose `create_job` was unanswered when the connection dropped
   * rejects at once with a `CallFailedError` whose `sent` is true (see {@link RpcClient.callNb}).
   */
  async call(funcname: string, inargs: Record<string, unknown>, options: CallOptions = {}): Promise<Record<string, Json>> {
    const timeoutS = options.timeoutS ?? DEFAULT_CALL_TIMEOUT_S;
    if (typeof timeoutS !== 'number' || !Number.isFinite(timeoutS) || timeoutS < 0) throw new ValidationError('timeoutS', 'must be a number of seconds, 0 for no limit');
    const jobId = await this.#createJob(funcname, inargs, timeoutS);
    return this.#await(funcname, jobId, timeoutS);
  }

  /**
   * Creates a job for `funcname` and resolves with its id at once, without waiting for it. Made
   * while the connection is down, it waits for the reconnection (up to `requestTimeoutMs`). If the
   * connection drops after the request went out and before its answer came, it rejects at once
   * with a `CallFailedError` whose `sent` is true: the job may or may not exist, and creating it
   * again could make two (create_job is not idempotent), so it is left to the caller.
   */
  callNb(funcname: string, inargs: Record<string, unknown>): Promise<string> {
    return this.#createJob(funcname, inargs, 0);
  }

  /** Whether a job has finished, and its outargs if it has; rejects for an unknown job or one this client may not read. */
  async getJobStatus(jobId: string | number): Promise<JobStatus> {
    const id = checkJobId(jobId);
    const answer = await this.#request('get_job_status', { job_id: id, notify: false });
    const [doneId, outargs] = pair(answer, 'get_job_status');
    if (doneId !== null && isObject(outargs)) return { finished: true, outargs };
    if (isObject(outargs) && outargs.error !== undefined) throw new Error(`get_job_status: ${errorText(outargs.error)}`);
    return { finished: false };
  }

  /** The ids (newest first, at most 1,000) of jobs whose inargs contain `filter`. */
  async findJobs(filter: Record<string, Json>): Promise<string[]> {
    if (!isObject(filter) || Object.keys(filter).length === 0) throw new ValidationError('filter', 'must be a non-empty object');
    const answer = await this.#request('find_jobs', { filter });
    if (Array.isArray(answer) && answer.length === 2 && answer[0] === null && typeof answer[1] === 'string') throw new Error(`find_jobs: ${answer[1]}`);
    if (!Array.isArray(answer)) throw new Error(`find_jobs: unexpected answer ${JSON.stringify(answer).slice(0, 200)}`);
    return answer.map((id) => String(id));
  }

  /** Makes a slot group that several actions share (see `work`'s `slotgroup`); made again on every new connection. */
  async createSlotGroup(name: string, slots: number): Promise<void> {
    const params = this.#worker.addSlotGroup(name, slots);
    try {
      await this.#request('create_slotgroup', params);
    } catch (err) {
      this.#worker.forgetSlotGroup(name);
      throw err;
    }
  }

  /**
   * Works `actionname` as a remote worker: the server offers its jobs to this client, `handler`
   * runs each, and its result (or error) is sent back. Announced again on every new connection.
   */
  async work(actionname: string, handler: TaskHandler, options: WorkOptions = {}): Promise<void> {
    const params = this.#worker.addAction(actionname, handler, options);
    try {
      checkAnnounced(await this.#request('announce', params), actionname);
    } catch (err) {
      this.#worker.forgetAction(actionname);
      throw err;
    }
  }

  /** Stops working `actionname`; its tasks out finish. */
  async withdraw(actionname: string): Promise<void> {
    if (!this.#worker.forgetAction(actionname)) throw new ValidationError('actionname', `"${actionname}" is not worked by this client`);
    await this.#request('withdraw', { actionname });
  }

  /** Closes the connection for good: calls still waiting reject, tasks out are given back by the server. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#pingTimer);
    const err = new Error('the client is closed');
    for (const waiters of this.#waits.values()) for (const w of waiters) w.reject(err);
    this.#waits.clear();
    for (const w of this.#readyWaiters.splice(0)) w(err);
    const peer = this.#peer;
    this.#peer = null;
    if (peer && !peer.closed) {
      const closed = new Promise<void>((resolve) => peer.onClose(() => resolve()));
      peer.close('the client closed');
      await closed;
    }
  }

  /** Opens the first session; used by {@link connectApi}. */
  async open(): Promise<void> {
    await this.#session();
  }

  async #createJob(funcname: string, inargs: Record<string, unknown>, timeoutS: number): Promise<string> {
    if (typeof funcname !== 'string' || funcname === '') throw new ValidationError('funcname', 'must be a function name');
    if (!isObject(inargs)) throw new ValidationError('inargs', 'must be an object');
    let answer: unknown;
    try {
      answer = await this.#request('create_job', { wfname: funcname, inargs, vtag: null, timeout: timeoutS });
    } catch (err) {
      // Sent and unanswered (the connection dropped, the controller died): the job may exist. Not
      // retried here: create_job carries no idempotency key, so a second one could make a second job.
      if (err instanceof CallFailedError && err.sent) {
        throw new CallFailedError(`create_job ${funcname}: no answer came (${err.message}); the job may have been created: look for it (findJobs) before creating it again`, { cause: err, sent: true });
      }
      throw err;
    }
    const [id, reason] = pair(answer, 'create_job');
    if (typeof id !== 'number' && typeof id !== 'string') throw new Error(`create_job ${funcname}: ${typeof reason === 'string' ? reason : JSON.stringify(reason)}`);
    return String(id);
  }

  /** Waits for a job's `job_done`, across reconnections, within the call's timeout. */
  #await(funcname: string, jobId: string, timeoutS: number): Promise<Record<string, Json>> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        funcname,
        resolve: (outargs) => {
          clearTimeout(timer);
          if (outargs.error === 'timeout' && isFailure(outargs)) reject(new CallTimeoutError(funcname, jobId, timeoutS));
          else if (isFailure(outargs)) reject(new CallError(funcname, jobId, outargs));
          else resolve(outargs);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      // The server sends {"error":"timeout"} when the timeout passes; this timer covers a connection down at that moment.
      if (timeoutS > 0) {
        timer = setTimeout(() => {
          this.#unwait(jobId, waiter);
          reject(new CallTimeoutError(funcname, jobId, timeoutS));
        }, timeoutS * 1000);
      }
      const early = this.#early.get(jobId);
      if (early) {
        this.#early.delete(jobId);
        waiter.resolve(early);
        return;
      }
      const list = this.#waits.get(jobId) ?? [];
      list.push(waiter);
      this.#waits.set(jobId, list);
    });
  }

  #unwait(jobId: string, waiter: Waiter): void {
    const list = this.#waits.get(jobId)?.filter((w) => w !== waiter) ?? [];
    if (list.length > 0) this.#waits.set(jobId, list);
    else this.#waits.delete(jobId);
  }

  #jobDone(params: Params): void {
    const { job_id: rawId, outargs } = params;
    if ((typeof rawId !== 'number' && typeof rawId !== 'string') || !isObject(outargs)) return;
    const jobId = String(rawId);
    const waiters = this.#waits.get(jobId);
    if (waiters) {
      this.#waits.delete(jobId);
      for (const w of waiters) w.resolve(outargs);
      return;
    }
    // A job_done read in the same chunk as create_job's answer comes before the call registers its
    // wait; kept (bounded) for it. callNb's jobs land here too and age out.
    this.#early.set(jobId, outargs);
    if (this.#early.size > EARLY_OUTCOMES) this.#early.delete(this.#early.keys().next().value!);
  }

  /** A request on the current session (waiting for one while reconnecting, up to the request timeout). */
  async #request(method: string, params: Params): Promise<unknown> {
    const peer = await this.#connected();
    return peer.call(method, params, { timeoutMs: this.#requestTimeoutMs });
  }

  get #requestTimeoutMs(): number {
    return this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  #connected(): Promise<Peer> {
    if (this.#closed) return Promise.reject(new Error('the client is closed'));
    if (this.#peer) return Promise.resolve(this.#peer);
    if (this.#options.reconnect === false) return Promise.reject(new Error(`not connected to ${this.#options.url} (reconnect is off)`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.#readyWaiters.indexOf(waiter);
        if (i >= 0) this.#readyWaiters.splice(i, 1);
        reject(new CallFailedError(`not connected to ${this.#options.url}: still reconnecting after ${this.#requestTimeoutMs} ms`));
      }, this.#requestTimeoutMs);
      const waiter = (peer: Peer | Error): void => {
        clearTimeout(timer);
        if (peer instanceof Error) reject(peer);
        else resolve(peer);
      };
      this.#readyWaiters.push(waiter);
    });
  }

  /** One session: connect, greeting, hello, restore; then it is the current one until it drops. */
  async #session(): Promise<void> {
    const channel = await this.#dial();
    let greeted!: (params: Params) => void;
    const greeting = new Promise<Params>((resolve) => (greeted = resolve));
    const peer = new Peer({
      channel,
      logger: this.#log,
      callTimeoutMs: this.#requestTimeoutMs,
      methods: (name) => {
        if (name === 'greetings') return (params) => void greeted(params);
        if (name === 'ping') return () => 'pong';
        if (name === 'job_done') return (params) => void this.#jobDone(params);
        if (name === 'task_ready') {
          return (params) =>
            void this.#worker.taskReady(peer, params).catch((err: unknown) => this.#log.warn({ err: (err as Error).message }, 'a task could not be taken or answered'));
        }
        return undefined;
      },
    });
    try {
      const hi = await withTimeout(greeting, GREETING_TIMEOUT_MS, `no greeting from ${this.#options.url} within ${GREETING_TIMEOUT_MS} ms`);
      if (hi.version !== PROTOCOL_VERSION) throw new Error(`${this.#options.url} speaks protocol version ${String(hi.version)}, not ${PROTOCOL_VERSION}`);
      const { who, method = 'password', token = '' } = this.#options;
      const answer = await peer.call('hello', { who, method, token }, { timeoutMs: this.#requestTimeoutMs });
      if (!Array.isArray(answer) || answer[0] !== true) throw new AuthError(`hello refused: ${Array.isArray(answer) ? String(answer[1]) : JSON.stringify(answer)}`);
      await this.#worker.restore(peer);
      await this.#rewait(peer);
    } catch (err) {
      peer.close('the session could not start');
      throw err;
    }
    if (this.#closed || peer.closed) {
      peer.close('the client closed');
      if (this.#closed) return;
      throw new Error('the connection closed while the session started');
    }
    this.#peer = peer;
    this.#sessions += 1;
    peer.onClose((reason) => this.#dropped(peer, reason));
    this.#startPings(peer);
    this.#log.info({ url: this.#options.url, sessions: this.#sessions }, 'connected');
    for (const w of this.#readyWaiters.splice(0)) w(peer);
  }

  /** After a reconnect: the server forgot what this connection waited for; ask for each job again, with notify. */
  async #rewait(peer: Peer): Promise<void> {
    for (const jobId of [...this.#waits.keys()]) {
      const answer = await peer.call('get_job_status', { job_id: jobId, notify: true }, { timeoutMs: this.#requestTimeoutMs });
      const [doneId, outargs] = pair(answer, 'get_job_status');
      if (doneId !== null && isObject(outargs)) this.#jobDone({ job_id: jobId, outargs });
      else if (isObject(outargs) && outargs.error !== undefined) {
        const waiters = this.#waits.get(jobId) ?? [];
        this.#waits.delete(jobId);
        for (const w of waiters) w.reject(new Error(`${w.funcname} (job ${jobId}): ${errorText(outargs.error)}`));
      }
    }
  }

  #dial(): Promise<MessageChannel> {
    const a = this.#address;
    const limits = this.#options.connectTimeoutMs !== undefined ? { connectTimeoutMs: this.#options.connectTimeoutMs } : {};
    const tls = this.#options.tls ? { tls: this.#options.tls } : {};
    if (a.transport === 'websocket') return connectWebSocket(a.url, { ...limits, ...tls });
    if (a.transport === 'tls') return connectTls({ host: a.host, port: a.port, ...limits, ...tls });
    return connectTcp({ host: a.host, port: a.port, ...limits });
  }

  #startPings(peer: Peer): void {
    clearInterval(this.#pingTimer);
    const every = this.#options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    if (every <= 0) return;
    let pinging = false;
    this.#pingTimer = setInterval(() => {
      if (pinging || peer.closed) return;
      pinging = true;
      peer
        .call('ping', {}, { timeoutMs: this.#requestTimeoutMs })
        .catch((err: unknown) => {
          // No answer: the server or the path to it is gone though the socket looks open.
          if (err instanceof CallFailedError) peer.close(`no answer to ping: ${err.message}`);
        })
        .finally(() => (pinging = false));
    }, every);
    this.#pingTimer.unref();
  }

  #dropped(peer: Peer, reason: string): void {
    if (this.#peer !== peer) return;
    this.#peer = null;
    clearInterval(this.#pingTimer);
    if (this.#closed) return;
    this.#log.warn({ reason }, 'the connection dropped');
    if (this.#options.reconnect === false) {
      const err = new Error(`the connection to ${this.#options.url} dropped (${reason}) and reconnect is off`);
      for (const waiters of this.#waits.values()) for (const w of waiters) w.reject(err);
      this.#waits.clear();
      return;
    }
    this.#reconnect(0);
  }

  /** Tries again after a backoff that doubles from the minimum to the maximum, each delay with jitter (half to all of it). */
  #reconnect(attempt: number): void {
    if (this.#closed) return;
    const { minDelayMs = DEFAULT_RECONNECT_MIN_MS, maxDelayMs = DEFAULT_RECONNECT_MAX_MS } = this.#options.reconnect || {};
    const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt, 30));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.#reconnectTimer = setTimeout(() => {
      this.#session().catch((err: unknown) => {
        if (this.#closed) return;
        const level = err instanceof AuthError ? 'error' : 'warn';
        this.#log[level]({ err: (err as Error).message, attempt: attempt + 1 }, 'reconnecting failed; trying again');
        this.#reconnect(attempt + 1);
      });
    }, delay);
  }
}

function checkJobId(raw: unknown): string {
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0) return String(raw);
  if (typeof raw === 'string' && /^[1-9][0-9]{0,18}$/.test(raw)) return raw;
  throw new ValidationError('jobId', 'must be a job id: a positive integer or its decimal string');
}

/** The two-element answers of create_job and get_job_status. */
function pair(answer: unknown, method: string): [unknown, unknown] {
  if (!Array.isArray(answer) || answer.length !== 2) throw new Error(`${method}: unexpected answer ${JSON.stringify(answer).slice(0, 200)}`);
  return [answer[0], answer[1]];
}

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
