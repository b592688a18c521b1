/**
 * Errors about a command's input named as the user typed it: the store and core name a field
 * (`arg.x`, `call[1]`, `timeZone`), the command line has options and arguments (`<arg>.x`,
 * `--call[1]`, `--time-zone`). Each command gives its map from field to option.
 */
import { ValidationError } from '@drover/core';

/** A ValidationError about a field, renamed after the option it came from (`arg.x` → `<arg>.x`); anything else as it is. */
export function asOption(err: unknown, names: Readonly<Record<string, string>>): unknown {
  if (!(err instanceof ValidationError)) return err;
  const head = /^[A-Za-z]+/.exec(err.field)?.[0] ?? '';
  const name = names[head];
  if (!name) return err;
  return new ValidationError(name + err.field.slice(head.length), err.message.replace(`${err.field}: `, ''), { cause: err });
}

/** Awaits `promise`, renaming a ValidationError it rejects with as {@link asOption} does. */
export async function renamedAsOptions<T>(promise: Promise<T>, names: Readonly<Record<string, string>>): Promise<T> {
  try {
    return await promise;
  } catch (err) {
    throw asOption(err, names);
  }
}
