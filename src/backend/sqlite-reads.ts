/**
 * SQLite cache lookups through statements prepared once per connection: a point lookup by
 * primary key costs a few microseconds, less than compiling the query that batches it.
 */
import type { Database as SQLiteConnection, Statement } from "better-sqlite3";
import { CALLS_PER_EVALUATION, type EvaluationLookups, type EvaluationRow } from "./cache-reads.ts";

/** Prepared lookups on one SQLite connection. */
export class SqliteLookups implements EvaluationLookups {
  private evaluation: Statement<[string], Omit<EvaluationRow, "call_hashes">> | undefined;
  private calls: Statement<[string], { call_hash: string }> | undefined;

  constructor(private readonly sqlite: SQLiteConnection) {}

  /** The recorded evaluations (with their values) of those eval hashes that have one. */
  evaluations(evalHashes: readonly string[]): EvaluationRow[] {
    this.evaluation ??= this.sqlite.prepare(
      'select "evaluation"."eval_hash", "evaluation"."value_hash", "value"."value", "value"."format" ' +
        'from "evaluation" inner join "value" on "value"."value_hash" = "evaluation"."value_hash" ' +
        'where "evaluation"."eval_hash" = ?',
    );
    this.calls ??= this.sqlite.prepare(
      'select "call_hash" from "call_node" where "eval_hash" = ? limit ' + CALLS_PER_EVALUATION,
    );
    const rows: EvaluationRow[] = [];
    // One read transaction for the whole batch, as the single IN (...) query had.
    this.sqlite.transaction(() => {
      for (const hash of evalHashes) {
        const row = this.evaluation!.get(hash);
        if (!row) continue;
        const calls = this.calls!.all(hash);
        rows.push({ ...row, call_hashes: calls.map((c) => c.call_hash) });
      }
    })();
    return rows;
  }
}
