/**
 * Numbers as JobCenter's Perl clients send them. JSON::MaybeXS encodes a Perl scalar by how it was
 * last used, so a number read from text (a config file, @ARGV, %ENV) goes out as a JSON string:
 * `"timeout":"30"`, `"slots":"4"`. JobCenter's server compares them numerically and takes both;
 * so does Drover, for the numeric parameters a client sets (job ids have their own parser).
 */

/** A plain decimal, as Perl writes a number it read from text: digits, optionally a fraction. */
const DECIMAL = /^\d{1,16}(\.\d{1,16})?$/;

/**
 * The number a parameter holds: a JSON number as it is, a decimal string as its value, anything
 * else NaN, for the caller's range check to refuse by the parameter's name.
 */
export function numberParam(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && DECIMAL.test(value)) return Number(value);
  return Number.NaN;
}
