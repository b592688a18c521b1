/**
 * Shows jobs moving while `drover dev` runs: on a terminal, a table of counts per function and
 * state redrawn in place; elsewhere (a pipe, a log file), one line each time the counts change.
 */
import type { JobCount } from '@drover/core';
import { statsTable } from '../output.js';

export class LiveView {
  #lastLines = 0;
  #last = '';
  readonly #started = Date.now();

  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {}

  show(counts: JobCount[]): void {
    const key = JSON.stringify(counts);
    if (key === this.#last) return;
    this.#last = key;
    if (this.out.isTTY) {
      const text = `${statsTable(counts)}\n`;
      // Move up over the previous table and clear it, then draw the new one.
      if (this.#lastLines > 0) this.out.write(`\x1b[${this.#lastLines}F\x1b[J`);
      this.out.write(text);
      this.#lastLines = text.split('\n').length - 1;
    } else {
      const seconds = ((Date.now() - this.#started) / 1000).toFixed(1);
      const byFunc = new Map<string, string[]>();
      for (const c of counts) byFunc.set(c.funcname, [...(byFunc.get(c.funcname) ?? []), `${c.state} ${c.count}`]);
      this.out.write(`[+${seconds}s] ${[...byFunc].map(([f, s]) => `${f}: ${s.join(', ')}`).join(' | ')}\n`);
    }
  }

  /** Stops redrawing in place: what follows is printed below the last table. */
  end(): void {
    this.#lastLines = 0;
  }
}
