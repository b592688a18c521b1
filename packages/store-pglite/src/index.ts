/**
 * @drover/store-pglite — Drover's job store on an embedded PGlite database: PostgreSQL compiled to
 * WebAssembly, in this process, running the very `.sql` files and migrations of `@drover/store`.
 * For `drover dev` and tests; a producer or worker on PostgreSQL needs only `@drover/store`, and
 * so never installs the WebAssembly build.
 *
 * @example
 * ```ts
 * import { createPgliteStore } from '@drover/store-pglite';
 *
 * const store = await createPgliteStore({ dataDir: './data/pgdata', namespace: 'drover' });
 * await store.recoverAfterRestart();
 * const { id } = await store.insert({ funcname: 'email.send', arg: { to: 'a@example.com' } });
 * await store.close();
 * ```
 */
export { PgliteJobStore, createPgliteStore, type PgliteStoreOptions } from './pglite-store.js';
