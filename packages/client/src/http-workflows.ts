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
  readonly tags: readonly string[];
  readonly latestVersion: number;
  readonly loadedAt: Date;
}

/** One load: JCL files, the named JSON Schemas they may use, and the version tag to save them with. */
export interface WorkflowLoad {
  readonly files: readonly { readonly fileName: string; readonly text: string }[];
  /** Each replaces the stored schema of its name; `fileName` (where it came from) names it in errors. */
  readonly schemas?: readonly { readonly name: string; readonly schema: Json; readonly fileName?: string }[];
  /** Saves the units as versions carrying this tag (none: default versions). */
  readonly tag?: string | null;
}

/** What an operator does with workflow units; a store (with `loadUnits`) and the HTTP API both provide it. */
export interface WorkflowApi {
  /**
   * Compiles and saves the files and schemas, all or none; a bad file is a ValidationError naming
   * `file:line:column`, a bad schema one naming its file (or `schemas[i]`).
   */
  load(load: WorkflowLoad): Promise<{ units: WorkflowUnitRef[]; schemas: string[] }>;
  /** Per name, the version a job asking for `tag` runs (see WorkflowUnitStore.listWorkflowUnits). */
  list(tag?: string | null): Promise<ListedWorkflowUnit[]>;
  show(name: string, tag?: string | null): Promise<StoredWorkflowUnit | null>;
}

export class HttpWorkflowApi implements WorkflowApi {
  constructor(
    private readonly baseUrl: string,
    private readonly options: HttpApiOptions = {},
  ) {}

  async load(load: WorkflowLoad): Promise<{ units: WorkflowUnitRef[]; schemas: string[] }> {
    const body = {
      files: load.files.map((f) => ({ name: f.fileName, text: f.text })),
      ...(load.schemas === undefined || load.schemas.length === 0
        ? {}
        : { schemas: load.schemas.map((s) => ({ name: s.name, schema: s.schema, ...(s.fileName === undefined ? {} : { file: s.fileName }) })) }),
      ...(load.tag === undefined || load.tag === null ? {} : { tag: load.tag }),
    };
    return (await request<{ units: WorkflowUnitRef[]; schemas: string[] }>(this.baseUrl, this.options, 'POST', '/workflows', body)).json;
  }

  async list(tag?: string | null): Promise<ListedWorkflowUnit[]> {
    const { json } = await request<(ListedWorkflowUnit & { loadedAt: string })[]>(this.baseUrl, this.options, 'GET', `/workflows${tagQuery(tag)}`);
    return json.map((u) => ({ ...u, loadedAt: new Date(u.loadedAt) }));
  }

  async show(name: string, tag?: string | null): Promise<StoredWorkflowUnit | null> {
    const path = `/workflows/${encodeURIComponent(name)}${tagQuery(tag)}`;
    const { status, json } = await request<StoredWorkflowUnit & { loadedAt: string; kind: WorkflowUnitKind }>(this.baseUrl, this.options, 'GET', path);
    return status === 404 ? null : { ...json, loadedAt: new Date(json.loadedAt) };
  }
}

const tagQuery = (tag: string | null | undefined): string => (tag === undefined || tag === null ? '' : `?tag=${encodeURIComponent(tag)}`);
