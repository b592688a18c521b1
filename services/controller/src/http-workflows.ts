/**
 * Workflow units over HTTP (docs/workflows.md), for operators and for the CLI against an embedded
 * instance:
 *   POST /workflows          { files: [{ name, text }, …], schemas?: [{ name, schema, file? }, …], tag? }
 *                            → 201 { units: [{ id, name, kind, version }, …], schemas: [name, …] }
 *   GET  /workflows?tag=     per name, the version a job asking for the tag (or none) runs:
 *                            [{ id, name, kind, version, tags, latestVersion, loadedAt }, …]
 *   GET  /workflows/:name?tag=   that version of one: the same, and signature and source
 *
 * Scopes. Loading code is an admin act: a loaded workflow runs with the engine's rights, calls any
 * function and replaces the unit others call, so POST needs `admin`. Reading a unit needs the
 * `call` scope on its name (who may start a workflow may read what it does); a unit out of reach
 * is answered as if it did not exist (404), and the list holds only the units in reach.
 *
 * The files are compiled here, against the units and schemas this store holds and the load's own
 * schemas, as `drover workflows load` does with DATABASE_URL: a file that does not parse or
 * compile is a 400 whose field is `file:line:column`, and nothing is saved.
 */
import type { FastifyInstance } from 'fastify';
import { ValidationError, authorizes, listedWorkflowUnit, validateFuncname, validateWorkflowTag, type Json, type WorkflowRunStore, type WorkflowUnitStore } from '@drover/core';
import { loadUnits, type UnitLoad } from '@drover/workflow';
import { isObject } from './http-checks.js';
import { HttpRefusal } from './http-errors.js';
import { clientOf } from './http-guard.js';

/**
 * At most this many files in one load: a load is one transaction and one compile, and a
 * namespace's whole code base (JobCenter's largest hold a few hundred units) fits well under it.
 */
const MAX_FILES = 1000;

const LOAD_FIELDS = new Set(['files', 'schemas', 'tag']);
const SCHEMA_FIELDS = new Set(['name', 'schema', 'file']);

/** The files, schemas and tag of a load, refused by name when malformed. */
export function parseLoadBody(body: unknown): UnitLoad {
  if (!isObject(body)) throw new ValidationError('body', 'must be { "files": [{ "name": …, "text": … }, …], "schemas"?: [{ "name": …, "schema": … }, …], "tag"?: … }');
  const extra = Object.keys(body).find((k) => !LOAD_FIELDS.has(k));
  if (extra !== undefined) throw new ValidationError(extra, 'is not a field of a load, whose body is { files, schemas?, tag? }');
  const files = body.files ?? [];
  const schemas = body.schemas ?? [];
  if (!Array.isArray(files) || files.length > MAX_FILES) throw new ValidationError('files', `must be a list of at most ${MAX_FILES} files`);
  if (!Array.isArray(schemas) || schemas.length > MAX_FILES) throw new ValidationError('schemas', `must be a list of at most ${MAX_FILES} schemas`);
  if (files.length === 0 && schemas.length === 0) throw new ValidationError('files', 'must hold a file, unless schemas hold a schema');
  return {
    files: files.map((file: unknown, i) => {
      if (!isObject(file)) throw new ValidationError(`files[${i}]`, 'must be { "name": …, "text": … }');
      if (typeof file.name !== 'string' || file.name.length === 0 || file.name.length > 1000) throw new ValidationError(`files[${i}].name`, 'must be a file name of 1 to 1000 characters');
      if (typeof file.text !== 'string') throw new ValidationError(`files[${i}].text`, 'must be the file\'s text');
      return { fileName: file.name, text: file.text };
    }),
    // Each schema's name and body are checked by loadUnits and the store, named `schemas[i].…` (or
    // by its file, when the load says which file it came from), before anything is saved.
    schemas: schemas.map((schema: unknown, i) => {
      if (!isObject(schema)) throw new ValidationError(`schemas[${i}]`, 'must be { "name": …, "schema": …, "file"?: … }');
      const unknown = Object.keys(schema).find((k) => !SCHEMA_FIELDS.has(k));
      if (unknown !== undefined) throw new ValidationError(`schemas[${i}].${unknown}`, 'is not a field of a schema, which is { name, schema, file? }');
      const { file } = schema;
      if (file !== undefined && (typeof file !== 'string' || file.length === 0 || file.length > 1000)) throw new ValidationError(`schemas[${i}].file`, 'must be a file name of 1 to 1000 characters');
      return { name: schema.name as string, schema: schema.schema as Json, ...(file === undefined ? {} : { fileName: file }) };
    }),
    tag: validateWorkflowTag(body.tag, 'tag'),
  };
}

/** `?tag=` of a read, or null. */
function tagOf(query: unknown): string | null {
  return validateWorkflowTag(isObject(query) ? query.tag : undefined, 'tag');
}

/** Adds the workflow routes. */
export function workflowRoutes(app: FastifyInstance, store: WorkflowUnitStore & Pick<WorkflowRunStore, 'jsonSchemas'>): void {
  app.post('/workflows', async (request, reply) => {
    if (!authorizes(clientOf(request), 'admin')) throw new HttpRefusal(403, 'only a client with the admin scope may load workflows');
    return reply.code(201).send(await loadUnits(store, parseLoadBody(request.body)));
  });

  app.get('/workflows', async (request) => {
    const client = clientOf(request);
    // No source or signature in a list (GET /workflows/:name has them).
    return (await store.listWorkflowUnits(tagOf(request.query))).filter((u) => authorizes(client, 'call', u.name)).map(listedWorkflowUnit);
  });

  app.get<{ Params: { name: string } }>('/workflows/:name', async (request) => {
    const name = validateFuncname(request.params.name, 'name');
    const unit = await store.workflowUnit(name, tagOf(request.query));
    if (!unit || !authorizes(clientOf(request), 'call', unit.name)) throw new HttpRefusal(404, `no workflow unit ${name}`);
    return unit;
  });
}
