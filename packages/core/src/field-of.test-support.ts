/** Test support (left out of the build): the field a ValidationError names. */
import { ValidationError } from './errors.js';

/** Runs `fn`, which must throw a ValidationError, and returns the field it names. */
export function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.field;
    throw err;
  }
  throw new Error('expected a ValidationError');
}
