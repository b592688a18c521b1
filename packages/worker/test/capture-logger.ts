/** A logger that keeps every line in memory, so tests can read what the worker reported. */
import type { Logger } from '@drover/core';

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

export function captureLogger(lines: LogLine[] = [], bindings: Record<string, unknown> = {}): Logger & { lines: LogLine[] } {
  const at = (level: LogLine['level']) => (fields: Record<string, unknown>, message = '') => void lines.push({ level, message, fields: { ...bindings, ...fields } });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: (more) => captureLogger(lines, { ...bindings, ...more }) };
}
