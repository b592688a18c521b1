/** The chaos run's table: one row per fault kind, and the totals. */
import type { FaultFigures } from './analyse.js';

const COLUMNS: [string, (f: FaultFigures) => string | number][] = [
  ['fault', (f) => f.fault],
  ['injected', (f) => f.injected],
  ['committed', (f) => f.committed],
  ['completed', (f) => f.completed],
  ['failed', (f) => f.failed],
  ['lost', (f) => f.lost],
  ['unacked commits', (f) => f.committedUnacknowledged],
  ['extra runs', (f) => f.runsExtra],
  ['by death', (f) => f.extraByDeath],
  ['by partition', (f) => f.extraByPartition],
  ['by lease expiry', (f) => f.extraByLeaseExpired],
  ['(handler had finished)', (f) => f.extraAfterHandlerFinished],
  ['unexplained', (f) => f.extraUnexplained],
  ['completed w/o lease', (f) => f.completedWithoutLease],
  ['recover p50 ms', (f) => f.recoverMsP50 ?? '-'],
  ['recover max ms', (f) => f.recoverMsMax ?? '-'],
  ['not recovered', (f) => f.notRecovered],
];

/** A Markdown table, readable in a terminal and pasteable into docs/reliability.md. */
export function table(figures: FaultFigures[]): string {
  const rows = figures.map((f) => COLUMNS.map(([, get]) => String(get(f))));
  const head = COLUMNS.map(([name]) => name);
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
