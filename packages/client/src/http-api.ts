/**
 * The job operations over a controller's HTTP API, for callers without database credentials and
 * for the CLI against an embedded instance. Dates come back as Date objects; a refusal of the
 * caller's input (400, 413, 415, …) becomes the same ValidationError, naming the same field, that
 * the store would have thrown, and a 409 a ConflictError. A refused token (401), a scope the client
 * lacks (403) or too many failures (429) is an {@link ApiAccessError}.
 */
import {
  ConflictError,
  DroverError,
  ValidationError,
  type ApiClient,
  type ApiClientStore,
  type FindJobsQuery,
  type InsertResult,
  type IssuedToken,
  type Job,
  type JobCount,
  type AdminStore,
  type ProducerStore,
  type JobWithFailures,
  type LiveWorker,
  type NewApiClient,
  type Presence,
  type NewJob,
  type RescheduleWhen,
  type DroverEvent,
  type EventStore,
  type RaisedEvent,
  type ListTriggersQuery,
  type NewTrigger,
  type Trigger,
  type TriggerJobsQuery,
  type TriggerPatch,
  type TriggerStore,
  type InsertOptions,
} from '@drover/core';

/** What an operator does with jobs; the store and the HTTP API both provide it. */
export type JobApi = Pick<ProducerStore, 'insert'> & AdminStore;

/** Raising events (`POST /events` over HTTP, which needs the admin scope); the store and the HTTP API both provide it. */
export type EventApi = Pick<EventStore, 'raiseEvent'>;

/** What an operator does with triggers; the store and the HTTP API both provide it. */
export type TriggerApi = Pick<TriggerStore, 'createTrigger' | 'getTrigger' | 'listTriggers' | 'updateTrigger' | 'enableTrigger' | 'deleteTrigger' | 'launchTrigger' | 'triggerJobs'>;

/** A trigger as the HTTP API answers it: a webhook trigger carries the `url` that fires it. */
export type TriggerWithUrl = Trigger & { url?: string };

/** What an administrator does with API clients; the client store and the HTTP API both provide it. */
export type ClientAdmin = Pick<ApiClientStore, 'add' | 'list' | 'remove' | 'rotate'>;

/** The API refused the caller: no or a wrong token (401), a scope it lacks (403), or too many failures (429). */
export class ApiAccessError extends DroverError {
  override name = 'ApiAccessError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** How to reach a controller's API. */
export interface HttpApiOptions {
  /**
   * The client's token, sent as `Authorization: Bearer …`: a generated token as printed by
   * `drover clients add`, or `<who>:<token>` for a chosen one.
   */
  token?: string;
}

const DATE_FIELDS = ['runAfter', 'grabbedUntil', 'createdAt', 'finishedAt'] as const;

function reviveJob<T extends Job>(raw: T): T {
  const job = { ...raw } as Record<string, unknown>;
  for (const f of DATE_FIELDS) if (typeof job[f] === 'string') job[f] = new Date(job[f]);
  if (Array.isArray(job.failureLog)) job.failureLog = (job.failureLog as { failedAt: string }[]).map((f) => ({ ...f, failedAt: new Date(f.failedAt) }));
  return job as T;
}

/** One request to the API, its answer parsed and its refusals turned into errors. */
export async function request<T>(baseUrl: string, options: HttpApiOptions, method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  let response: Response;
  // Every request that changes something is JSON, even with nothing to say: the API refuses any
  // other type there, so that no HTML form can post to it.
  const payload = body ?? (method === 'GET' ? undefined : {});
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  try {
    response = await fetch(`${baseUrl}${path}`, { method, headers, ...(payload === undefined ? {} : { body: JSON.stringify(payload) }) });
  } catch (err) {
    throw new DroverError(`cannot reach the Drover API at ${baseUrl}: ${(err as Error).message}`, { cause: err });
  }
  let json: T & { error?: { field?: string; message: string } };
  try {
    json = (await response.json()) as typeof json;
  } catch (err) {
    throw new DroverError(`Drover API ${method} ${path}: ${response.status}, and the answer is not JSON`, { cause: err });
  }
  if (response.status === 401 || response.status === 403 || response.status === 429) {
    throw new ApiAccessError(response.status, `Drover API ${method} ${path}: ${response.status} ${json.error?.message ?? ''}`.trim());
  }
  if (response.status === 409) throw new ConflictError(json.error?.message ?? `Drover API ${method} ${path}: conflict`);
  if (response.status >= 400 && response.status < 500 && response.status !== 404 && json.error) {
    // Every other 4xx refuses the request as sent: bad input, named as the server named it.
    const field = json.error.field ?? 'request';
    throw new ValidationError(field, json.error.message.replace(`${field}: `, ''));
  }
  if (response.status >= 400 && response.status !== 404) {
    throw new DroverError(`Drover API ${method} ${path}: ${response.status} ${json.error?.message ?? ''}`.trim());
  }
  return { status: response.status, json };
}

export class HttpJobApi implements JobApi, EventApi {
  constructor(
    private readonly baseUrl: string,
    private readonly options: HttpApiOptions = {},
  ) {}

  #request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
    return request<T>(this.baseUrl, this.options, method, path, body);
  }

  async insert(job: NewJob, options: InsertOptions = {}): Promise<InsertResult> {
    // The tag rides in the job's body (POST /jobs's `tag`), beside the job's own fields.
    const body = options.workflowTag === undefined || options.workflowTag === null ? job : { ...job, tag: options.workflowTag };
    return (await this.#request<InsertResult>('POST', '/jobs', body)).json;
  }

  async getJob(id: string): Promise<JobWithFailures | null> {
    const { status, json } = await this.#request<JobWithFailures & { steps?: { at: string | Date }[] }>('GET', `/jobs/${encodeURIComponent(id)}`);
    if (status === 404) return null;
    const job = reviveJob(json);
    // A workflow job's step log (see JobView): its times come as ISO strings.
    if (Array.isArray(json.steps)) job.steps = json.steps.map((s) => ({ ...s, at: new Date(s.at) }));
    return job;
  }

  async findJobs(query: FindJobsQuery = {}): Promise<Job[]> {
    const params = new URLSearchParams();
    for (const s of query.states ?? []) params.append('state', s);
    if (query.funcname !== undefined) params.set('funcname', query.funcname);
    if (query.argContains !== undefined) params.set('arg', JSON.stringify(query.argContains));
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.beforeId !== undefined) params.set('before', query.beforeId);
    return (await this.#request<Job[]>('GET', `/jobs?${params.toString()}`)).json.map(reviveJob);
  }

  async counts(): Promise<JobCount[]> {
    return (await this.#request<JobCount[]>('GET', '/stats')).json;
  }

  async retry(id: string): Promise<Job | null> {
    const { status, json } = await this.#request<Job>('POST', `/jobs/${encodeURIComponent(id)}/retry`);
    return status === 404 ? null : reviveJob(json);
  }

  async cancel(id: string): Promise<boolean> {
    return (await this.#request('POST', `/jobs/${encodeURIComponent(id)}/cancel`)).status === 200;
  }

  /** Raises an event: the matching `@event` triggers create their jobs (see docs/triggers.md). */
  async raiseEvent(event: DroverEvent): Promise<RaisedEvent> {
    return (await this.#request<RaisedEvent>('POST', '/events', event)).json;
  }

  async reschedule(id: string, when: RescheduleWhen): Promise<Job | null> {
    const { status, json } = await this.#request<Job>('POST', `/jobs/${encodeURIComponent(id)}/reschedule`, { when: when instanceof Date ? when.toISOString() : when });
    return status === 404 ? null : reviveJob(json);
  }
}

function reviveClient(raw: ApiClient): ApiClient {
  return { ...raw, createdAt: new Date(raw.createdAt), rotatedAt: raw.rotatedAt === null ? null : new Date(raw.rotatedAt) };
}

/** The client registry over a controller's HTTP API (the token must have the admin scope). */
export class HttpClientAdmin implements ClientAdmin {
  constructor(
    private readonly baseUrl: string,
    private readonly options: HttpApiOptions = {},
  ) {}

  async add(input: NewApiClient): Promise<IssuedToken> {
    const { json } = await request<IssuedToken>(this.baseUrl, this.options, 'POST', '/clients', input);
    return { client: reviveClient(json.client), token: json.token };
  }

  async list(): Promise<ApiClient[]> {
    return (await request<ApiClient[]>(this.baseUrl, this.options, 'GET', '/clients')).json.map(reviveClient);
  }

  async remove(who: string): Promise<boolean> {
    return (await request(this.baseUrl, this.options, 'DELETE', `/clients/${encodeURIComponent(who)}`)).status === 200;
  }

  async rotate(who: string, token?: string): Promise<IssuedToken | null> {
    const { status, json } = await request<IssuedToken>(this.baseUrl, this.options, 'POST', `/clients/${encodeURIComponent(who)}/rotate`, token === undefined ? {} : { token });
    return status === 404 ? null : { client: reviveClient(json.client), token: json.token };
  }
}

const TRIGGER_DATE_FIELDS = ['nextFireAt', 'lastFiredAt', 'lastSuccessAt', 'lastFailureAt', 'createdAt', 'updatedAt'] as const;

function reviveTrigger(raw: TriggerWithUrl): TriggerWithUrl {
  const trigger = { ...raw } as Record<string, unknown>;
  for (const f of TRIGGER_DATE_FIELDS) if (typeof trigger[f] === 'string') trigger[f] = new Date(trigger[f]);
  return trigger as unknown as TriggerWithUrl;
}

/** Paging as query text: `limit` and `before`, plus `funcname` for a listing. */
function pageParams(query: ListTriggersQuery | TriggerJobsQuery): string {
  const params = new URLSearchParams();
  if ('funcname' in query && query.funcname !== undefined) params.set('funcname', query.funcname);
  if (query.limit !== undefined) params.set('limit', String(query.limit));
  if (query.beforeId !== undefined) params.set('before', query.beforeId);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * Triggers over a controller's HTTP API: what a client may do with the triggers of the functions it
 * may call (all of them with the admin scope). Its triggers carry a webhook trigger's `url`.
 */
export class HttpTriggerApi implements TriggerApi {
  constructor(
    private readonly baseUrl: string,
    private readonly options: HttpApiOptions = {},
  ) {}

  #request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
    return request<T>(this.baseUrl, this.options, method, path, body);
  }

  #path(id: string, tail = ''): string {
    return `/triggers/${encodeURIComponent(id)}${tail}`;
  }

  async createTrigger(input: NewTrigger): Promise<TriggerWithUrl> {
    return reviveTrigger((await this.#request<TriggerWithUrl>('POST', '/triggers', input)).json);
  }

  async getTrigger(id: string): Promise<TriggerWithUrl | null> {
    const { status, json } = await this.#request<TriggerWithUrl>('GET', this.#path(id));
    return status === 404 ? null : reviveTrigger(json);
  }

  async listTriggers(query: ListTriggersQuery = {}): Promise<TriggerWithUrl[]> {
    return (await this.#request<TriggerWithUrl[]>('GET', `/triggers${pageParams(query)}`)).json.map(reviveTrigger);
  }

  async updateTrigger(id: string, patch: TriggerPatch): Promise<TriggerWithUrl | null> {
    const { status, json } = await this.#request<TriggerWithUrl>('PATCH', this.#path(id), patch);
    return status === 404 ? null : reviveTrigger(json);
  }

  async enableTrigger(id: string, enabled: boolean): Promise<TriggerWithUrl | null> {
    return this.updateTrigger(id, { enabled });
  }

  async deleteTrigger(id: string): Promise<boolean> {
    return (await this.#request('DELETE', this.#path(id))).status === 200;
  }

  async launchTrigger(id: string): Promise<{ jobId: string; inserted: boolean; trigger: TriggerWithUrl } | null> {
    const { status, json } = await this.#request<{ jobId: string; inserted: boolean; trigger: TriggerWithUrl }>('POST', this.#path(id, '/launch'));
    return status === 404 ? null : { ...json, trigger: reviveTrigger(json.trigger) };
  }

  async triggerJobs(id: string, query: TriggerJobsQuery = {}): Promise<Job[]> {
    const { status, json } = await this.#request<Job[]>('GET', this.#path(id, `/jobs${pageParams(query)}`));
    return status === 404 ? [] : json.map(reviveJob);
  }
}

/** The live workers over a controller's HTTP API (`GET /workers`; the token must have the admin scope). */
export class HttpWorkerList implements Pick<Presence, 'list'> {
  constructor(
    private readonly baseUrl: string,
    private readonly options: HttpApiOptions = {},
  ) {}

  async list(): Promise<LiveWorker[]> {
    const { json } = await request<LiveWorker[]>(this.baseUrl, this.options, 'GET', '/workers');
    return json.map((w) => ({ ...w, startedAt: new Date(w.startedAt), seenAt: new Date(w.seenAt), expiresAt: new Date(w.expiresAt) }));
  }
}
