/**
 * `drover clients add|list|rm|rotate`: the API clients of the namespace. With DATABASE_URL, straight
 * in PostgreSQL (an operator's database role is the authority); without it, through the admin
 * routes of the embedded instance on DROVER_DATA_DIR. A token is printed once, when made.
 */
import { formatTable, type ApiClient, type IssuedToken } from '@drover/core';
import { HttpClientAdmin, type ClientAdmin } from '@drover/client';
import type { Config } from '../config.js';
import { renamedAsOptions } from '../option-errors.js';
import { printJson } from '../output.js';
import { withEmbeddedOrStore } from './jobs.js';

function withClients<T>(config: Config, fn: (api: ClientAdmin) => Promise<T>): Promise<T> {
  return withEmbeddedOrStore<ClientAdmin, T>(config, 'clients', { http: (url, options) => new HttpClientAdmin(url, options), store: (store) => store.clients }, fn);
}

/** The option or argument a client field comes from, so an error names what the caller typed. */
const OPTION_NAMES: Readonly<Record<string, string>> = { who: '<name>', token: '--token', call: '--call', work: '--work', certificateCn: '--cn', admin: '--admin' };



export interface AddClientFlags {
  token?: string;
  call: string[];
  work: string[];
  admin?: boolean;
  cn?: string;
  json?: boolean;
}

function printIssued(issued: IssuedToken, verb: string, json: boolean): void {
  if (json) return printJson(issued);
  process.stdout.write(`client ${issued.client.who} ${verb}; its token (shown only this once):\n${issued.token}\n`);
}

export async function addClientCommand(config: Config, who: string, flags: AddClientFlags): Promise<void> {
  const issued = await renamedAsOptions(
    withClients(config, (clients) =>
      clients.add({
        who,
        call: flags.call,
        work: flags.work,
        admin: Boolean(flags.admin),
        ...(flags.token === undefined ? {} : { token: flags.token }),
        ...(flags.cn === undefined ? {} : { certificateCn: flags.cn }),
      }),
    ),
    OPTION_NAMES,
  );
  printIssued(issued, 'added', Boolean(flags.json));
}

function clientsTable(clients: ApiClient[]): string {
  if (clients.length === 0) return 'no clients';
  return formatTable(
    ['who', 'call', 'work', 'admin', 'cn', 'created_at', 'rotated_at'],
    clients.map((c) => [c.who, c.call.join(' ') || '-', c.work.join(' ') || '-', c.admin ? 'yes' : 'no', c.certificateCn ?? '-', c.createdAt.toISOString(), c.rotatedAt?.toISOString() ?? '-']),
  );
}

export async function listClientsCommand(config: Config, json: boolean): Promise<void> {
  const clients = await withClients(config, (c) => c.list());
  if (json) printJson(clients);
  else process.stdout.write(`${clientsTable(clients)}\n`);
}

export async function removeClientCommand(config: Config, who: string, json: boolean): Promise<number> {
  const removed = await renamedAsOptions(withClients(config, (c) => c.remove(who)), OPTION_NAMES);
  if (json) printJson({ who, removed });
  if (!removed) {
    process.stderr.write(`no client ${who}\n`);
    return 1;
  }
  if (!json) process.stdout.write(`client ${who} removed; its token no longer works\n`);
  return 0;
}

export async function rotateClientCommand(config: Config, who: string, flags: { token?: string; json?: boolean }): Promise<number> {
  const issued = await renamedAsOptions(withClients(config, (c) => c.rotate(who, flags.token)), OPTION_NAMES);
  if (!issued) {
    if (flags.json) printJson(null);
    process.stderr.write(`no client ${who}\n`);
    return 1;
  }
  printIssued(issued, 'has a new token; the old one no longer works', Boolean(flags.json));
  return 0;
}
