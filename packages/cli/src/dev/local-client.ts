/**
 * The local admin client of `drover dev`: the quick start needs no step to get a token. On every
 * start the token kept in the data folder is checked; a missing or stale one (the database was
 * reset, the client rotated or removed) is replaced, and the file rewritten.
 */
import type { ApiClientStore } from '@drover/core';
import { readLocalToken, writeLocalToken } from './instance.js';

/** The name of the client `drover dev` makes for the commands on the same machine. */
export const LOCAL_CLIENT = 'local-admin';

/** Makes sure the local admin client exists and its token is in the data folder; returns the token. */
export async function ensureLocalClient(clients: ApiClientStore, dataDir: string): Promise<string> {
  const kept = readLocalToken(dataDir);
  if (kept && (await clients.verifyToken(LOCAL_CLIENT, kept))?.admin) return kept;
  // Made afresh, whatever was there: a client of that name that lost its admin scope is not the local admin.
  await clients.remove(LOCAL_CLIENT);
  const { token } = await clients.add({ who: LOCAL_CLIENT, admin: true });
  writeLocalToken(dataDir, token);
  return token;
}
