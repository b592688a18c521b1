/**
 * `check_if_lock_exists {locktype, lockvalue}`: JobCenter's question whether some workflow holds a
 * lock, answered true or false. Any authenticated client may ask, as in JobCenter: it learns only
 * that the lock is taken, not by whom. JobCenter answers null for a lock type it does not know;
 * Drover keeps no registry of lock types, so an unknown type is simply a free lock: false. A bad
 * parameter is a -32001 error naming it.
 */
import { ValidationError, type ApiClient, type WorkflowStore } from '@drover/core';
import type { SessionMethod } from '../session.js';

const PARAMS = new Set(['locktype', 'lockvalue']);

/** What check_if_lock_exists reads. */
export type LockMethodsStore = { readonly workflows: Pick<WorkflowStore['workflows'], 'checkIfLockExists'> };

/** `check_if_lock_exists` for the method table. */
export function lockMethods(store: LockMethodsStore): Record<string, SessionMethod<ApiClient>> {
  return {
    check_if_lock_exists: async (params) => {
      const extra = Object.keys(params).find((k) => !PARAMS.has(k));
      if (extra !== undefined) throw new ValidationError(extra, 'is not a parameter of check_if_lock_exists, which takes locktype and lockvalue');
      try {
        return (await store.workflows.checkIfLockExists(params.locktype as string, params.lockvalue as string)) !== null;
      } catch (err) {
        // The store names its own fields (type, value); the wire's are spelled differently.
        if (err instanceof ValidationError && (err.field === 'type' || err.field === 'value')) {
          throw new ValidationError(`lock${err.field}`, err.message.replace(`${err.field}: `, ''), { cause: err });
        }
        throw err;
      }
    },
  };
}
