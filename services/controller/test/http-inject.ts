/**
 * One request to an HTTP API built by createHttpApi, through Fastify's inject: what the route
 * tests share. Each file keeps a `send` of its own shape (raw JSON text, or a value to encode).
 */
import type { FastifyInstance } from 'fastify';

/** An answer: its status and its JSON (a refusal is `{ error: { field?, message } }`). */
export interface Answer {
  status: number;
  json: { error?: { field?: string; message: string } } & Record<string, unknown>;
}

/**
 * Sends `payload` (JSON text, as is) with `token` as the bearer token (null: none). A request
 * other than GET without a payload sends `{}`: every such route takes a JSON body, and a retry or
 * a cancel says nothing.
 */
export async function injectJson(
  app: FastifyInstance,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  options: { payload?: string | undefined; token: string | null; contentType?: string | undefined },
): Promise<Answer> {
  const body = options.payload ?? (method === 'GET' ? undefined : '{}');
  const headers = {
    ...(options.token === null ? {} : { authorization: `Bearer ${options.token}` }),
    ...(body === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' }),
  };
  const response = await app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: body }) });
  return { status: response.statusCode, json: response.json() };
}
