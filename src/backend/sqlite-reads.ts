/**
 * SQLite cache lookups through statements prepared once per connection: a point lookup by
 * primary key costs a few microseconds, less than compiling the query that batches it.
 */
import type { Database as SQLiteConnection, Statement } from "better-sqlite3";

/** An `evaluation` row joined with its value, as the cache reads it. */
export interface EvaluationRow {
  eval_hash: string;
  value_hash: string;
  value: Uint8Array;
  format: string;
}

/** Prepared lookups on one SQLite connection. */
export class SqliteLookups {
  private evaluation: Statement<[string], EvaluationRow> | undefined;

  constructor(private readonly sqlite: SQLiteConnection) {}

  /** The recorded evaluations (with their values) of those eval hashes that have one. */
  evaluations(evalHashes: readonly string[]): EvaluationRow[] {
    this.evaluation ??= this.sqlite.prepare(
      'select "evaluation"."eval_hash", "evaluation"."value_hash", "value"."value", "value"."format" ' +
        'from "evaluation" inner join "value" on "value"."value_hash" = "evaluation"."value_hash" ' +
        'where "evaluation"."eval_hash" = ?',
    );
    const rows: EvaluationRow[] = [];
    // One read transaction for the whole batch, as the single IN (...) query had.
    this.sqlite.transaction(() => {
      for (const hash of evalHashes) {
        const row = this.evaluation!.get(hash);
        if (row) rows.push(row);
      }
    })();
    return rows;
  }
}
