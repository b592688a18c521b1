/**
 * PGlite behind the store's two seams: the {@link SqlExecutor} the job store runs its statements
 * on, and the session the migrator applies its files through.
 */
import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { MigrationSession, MigrationTarget, SqlExecutor, Statement } from '@drover/store';

type Queryable = Pick<PGlite, 'query' | 'exec'> | Transaction;

/** Runs the store's statements on PGlite's one session, or in one of its transactions. */
export class PgliteExecutor implements SqlExecutor {
  constructor(
    private readonly db: PGlite,
    private readonly tx: Transaction | null = null,
  ) {}

  async query<R>(statement: Statement, params: readonly unknown[]): Promise<R[]> {
    const target: Queryable = this.tx ?? this.db;
    return (await target.query<R>(statement.text, params as unknown[])).rows;
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    // Already in one: PGlite has a single session, and no store operation needs nesting.
    if (this.tx) return fn(this);
    return this.db.transaction((tx) => fn(new PgliteExecutor(this.db, tx)));
  }
}

/** The migrator's view of PGlite: one session; a statement without params may be a whole file. */
export function migrationTarget(db: PGlite): MigrationTarget {
  const session: MigrationSession = {
    async query<R>(text: string, params?: unknown[]) {
      if (params) return { rows: (await db.query<R>(text, params)).rows };
      const results = await db.exec(text);
      return { rows: (results.at(-1)?.rows ?? []) as R[] };
    },
    release: () => undefined,
  };
  return { connect: async () => session };
}
