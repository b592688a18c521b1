/**
 * Workflow units over HTTP (docs/workflows.md), for operators and for the CLI against an embedded
 * instance:
 *   POST /workflows          { files: [{ name, text }, …] } → 201 { units: [{ id, name, kind, version }, …] }
 *   GET  /workflows          the newest version of every unit: [{ id, name, kind, version, loadedAt }, …]
 *   GET  /workflows/:name    the newest version of one: { id, name, kind, version, loadedAt, signature, source }
 *
 * Scopes. Loading code is an admin act: a loaded workflow runs with the engine's rights, calls any
 * function and replaces the unit others call, so POST needs `admin`. Reading a unit needs the
 * `call` scope on its name (who may start a workflow may read what it does); a unit out of reach
 * is answered as if it did not exist (404), and the list holds only the units in reach.
 *
 * The files are compiled here, against the units this store holds, as `drover workflows load`
 * does with DATABASE_URL: a file that does not parse or compile is a 400 whose field is
 * `file:line:column`, and nothing is saved.
 */
import type { FastifyInstance } from 'fastify';
import { ValidationError, authorizes, validateFuncname, type StoredWorkflowUnit, type WorkflowRunStore, type WorkflowUnitStore } from '@drover/core';
import { loadUnits, storedTypeChecker, type JclSource } from '@drover/workflow';
import { isObject } from './http-checks.js';
import { HttpRefusal } from './http-errors.js';
import { clientOf } from './http-guard.js';

/**
 * At most this many files in one load: a load is one transaction and one compile, and a
 * namespace's whole code base (JobCenter's largest hold a few hundred units) fits well under it.
 */
const MAX_FILES = 1000;

/** The files of a load, refused by name when malformed. */
export function parseLoadBody(body: unknown): JclSource[] {
  if (!isObject(body)) throw new ValidationError('body', 'must be { "files": [{ "name": …, "text": … }, …] }');
  const extra = Object.keys(body).find((k) => k !== 'files');
  if (extra !== undefined) throw new ValidationError(extra, 'is not a field of a load, whose body is { files }');
  const files = body.files;
  if (!Array.isArray(files) || files.length === 0 || files.length > MAX_FILES) throw new ValidationError('files', `must be a list of 1 to ${MAX_FILES} files`);
  return files.map((file: unknown, i) => {
    if (!isObject(file)) throw new ValidationError(`files[${i}]`, 'must be { "name": …, "text": … }');
    if (typeof file.name !== 'string' || file.name.length === 0 || file.name.length > 1000) throw new ValidationError(`files[${i}].name`, 'must be a file name of 1 to 1000 characters');
    if (typeof file.text !== 'string') throw new ValidationError(`files[${i}].text`, 'must be the file\'s text');
    return { fileName: file.name, text: file.text };
  });
}

/** A unit as the list answers it: no source or signature (GET /workflows/:name has them). */
const listed = ({ id, name, kind, version, loadedAt }: StoredWorkflowUnit) => ({ id, name, kind, version, loadedAt });

/** Adds the workflow routes. */
export function workflowRoutes(app: FastifyInstance, store: WorkflowUnitStore & Pick<WorkflowRunStore, 'jsonSchemas'>): void {
  app.post('/workflows', async (request, reply) => {
    if (!authorizes(clientOf(request), 'admin')) throw new HttpRefusal(403, 'only a client with the admin scope may load workflows');
    const files = parseLoadBody(request.body);
    // Named types are the stored JSON Schemas as they are now, as the engine will check them.
    const units = await loadUnits(store, files, await storedTypeChecker(store));
    return reply.code(201).send({ units });
  });

  app.get('/workflows', async (request) => {
    const client = clientOf(request);
    return (await store.listWorkflowUnits()).filter((u) => authorizes(client, 'call', u.name)).map(listed);
  });

  app.get<{ Params: { name: string } }>('/workflows/:name', async (request) => {
    const name = validateFuncname(request.params.name, 'name');
    const unit = await store.workflowUnit(name);
    if (!unit || !authorizes(clientOf(request), 'call', unit.name)) throw new HttpRefusal(404, `no workflow unit ${name}`);
    return unit;
  });
}
