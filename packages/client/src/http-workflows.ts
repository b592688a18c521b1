/**
 * Workflow units through the HTTP API (`POST /workflows`, `GET /workflows`, `GET /workflows/:name`),
 * for the CLI against an embedded instance. The same operations straight on a store are
 * `loadUnits` (@drover/workflow) and the store's `WorkflowUnitStore` reads.
 */
import type { Json, StoredWorkflowUnit, WorkflowUnitKind, WorkflowUnitRef } from '@drover/core';
import { request, type HttpApiOptions } from './http-api.js';

/** A step of a workflow job's log, as the job view shows it. */
export interface WorkflowStepView {
  readonly step: number;
  readonly at: Date;
  readonly kind: string;
  readonly detail: Json;
}

/** A job as `GET /jobs/:id` and `drover show` give it: a workflow job carries its step log. */
export type JobView<J> = J & { steps?: WorkflowStepView[] };

/** A unit as a list gives it: no source or signature. */
export interface ListedWorkflowUnit extends WorkflowUnitRef {
  readonly loadedAt: Date;
}

/** What an operator does with workflow units; a store (with `loadUnits`) and the HTTP API both provide it. */
export interface WorkflowApi {
  /** Compiles and saves the files (`{ fileName, text }`), all or none; a bad file is a ValidationError naming `file:line:column`. */
  load(files: readonly { readonly fileName: string; readonly text: string }[]): Promise<WorkflowUnitRef[]>;
  list(): Promise<ListedWorkflowUnit[]>;
  show(name: string): Promise<StoredWorkflowUnit | null>;
}

export class HttpWorkflowApi implements WorkflowApi {
  constructor(
    private readonly baseUrl: string,
    private readonly options: HttpApiOptions = {},
  ) {}

  async load(files: readonly { readonly fileName: string; readonly text: string }[]): Promise<WorkflowUnitRef[]> {
    const body = { files: files.map((f) => ({ name: f.fileName, text: f.text })) };
    return (await request<{ units: WorkflowUnitRef[] }>(this.baseUrl, this.options, 'POST', '/workflows', body)).json.units;
  }

  async list(): Promise<ListedWorkflowUnit[]> {
    const { json } = await request<(WorkflowUnitRef & { loadedAt: string })[]>(this.baseUrl, this.options, 'GET', '/workflows');
    return json.map((u) => ({ ...u, loadedAt: new Date(u.loadedAt) }));
  }

  async show(name: string): Promise<StoredWorkflowUnit | null> {
    const { status, json } = await request<StoredWorkflowUnit & { loadedAt: string; kind: WorkflowUnitKind }>(this.baseUrl, this.options, 'GET', `/workflows/${encodeURIComponent(name)}`);
    return status === 404 ? null : { ...json, loadedAt: new Date(json.loadedAt) };
  }
}
