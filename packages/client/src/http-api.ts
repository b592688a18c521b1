/**
 * The job operations over a controller's HTTP API, for callers without database credentials and
 * for the CLI against an embedded instance. Dates come back as Date objects; a refusal of the
 * caller's input (400, 413, 415, …) becomes the same ValidationError, naming the same field, that
 * the store would have thrown, and a 409 a ConflictError.
 */
import { ConflictError, DroverError, ValidationError, type FindJobsQuery, type AdminStore, type InsertResult, type Job, type JobCount, type JobWithFailures, type NewJob, type ProducerStore, type RescheduleWhen } from '@drover/core';

/** What an operator does with jobs; the store and the HTTP API both provide it. */
export type JobApi = Pick<ProducerStore, 'insert'> & AdminStore;

const DATE_FIELDS = ['runAfter', 'grabbedUntil', 'createdAt', 'finishedAt'] as const;

function reviveJob<T extends Job>(raw: T): T {
  const job = { ...raw } as Record<string, unknown>;
  for (const f of DATE_FIELDS) if (typeof job[f] === 'string') job[f] = new Date(job[f]);
  if (Array.isArray(job.failureLog)) job.failureLog = (job.failureLog as { failedAt: string }[]).map((f) => ({ ...f, failedAt: new Date(f.failedAt) }));
  return job as T;
}

export class HttpJobApi implements JobApi {
  constructor(private readonly baseUrl: string) {}

  async #request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new DroverError(`cannot reach the Drover API at ${this.baseUrl}: ${(err as Error).message}`, { cause: err });
    }
    let json: T & { error?: { field?: string; message: string } };
    try {
      json = (await response.json()) as typeof json;
    } catch (err) {
      throw new DroverError(`Drover API ${method} ${path}: ${response.status}, and the answer is not JSON`, { cause: err });
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

  async insert(job: NewJob): Promise<InsertResult> {
    return (await this.#request<InsertResult>('POST', '/jobs', job)).json;
  }

  async getJob(id: string): Promise<JobWithFailures | null> {
    const { status, json } = await this.#request<JobWithFailures>('GET', `/jobs/${encodeURIComponent(id)}`);
    return status === 404 ? null : reviveJob(json);
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

  async reschedule(id: string, when: RescheduleWhen): Promise<Job | null> {
    const { status, json } = await this.#request<Job>('POST', `/jobs/${encodeURIComponent(id)}/reschedule`, { when: when instanceof Date ? when.toISOString() : when });
    return status === 404 ? null : reviveJob(json);
  }
}
