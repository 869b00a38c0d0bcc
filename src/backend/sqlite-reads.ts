/**
 * SQLite cache lookups through statements prepared once per connection: a point lookup by
 * primary key costs a few microseconds, less than compiling the query that batches it.
 */
import type { Database as SQLiteConnection, Statement } from "better-sqlite3";
import { CALLS_PER_EVALUATION, type EvaluationLookups, type EvaluationRow } from "./cache-reads.ts";

/** Prepared lookups on one SQLite connection. */
export class SqliteLookups implements EvaluationLookups {
  private evaluation:
    Statement<[string], Omit<EvaluationRow, "call_hashes"> & { calls: string | null }> | undefined;

  constructor(private readonly sqlite: SQLiteConnection) {}

  /** The recorded evaluations (with their values) of those eval hashes that have one. */
  evaluations(evalHashes: readonly string[]): EvaluationRow[] {
    // One statement per hash, the evaluation, its value and its first calls together.
    this.evaluation ??= this.sqlite.prepare(
      'select "evaluation"."eval_hash", "evaluation"."value_hash", "value"."value", "value"."format", ' +
        '(select group_concat("call_hash", \' \') from (select "call_hash" from "call_node" ' +
        `where "call_node"."eval_hash" = "evaluation"."eval_hash" limit ${CALLS_PER_EVALUATION})) as "calls" ` +
        'from "evaluation" inner join "value" on "value"."value_hash" = "evaluation"."value_hash" ' +
        'where "evaluation"."eval_hash" = ?',
    );
    const rows: EvaluationRow[] = [];
    // One read transaction for the whole batch, as the single IN (...) query had.
    this.sqlite.transaction(() => {
      for (const hash of evalHashes) {
        const row = this.evaluation!.get(hash);
        if (!row) continue;
        const { eval_hash, value_hash, value, format, calls } = row;
        rows.push({
          eval_hash,
          value_hash,
          value,
          format,
          call_hashes: calls ? calls.split(" ") : [],
        });
      }
    })();
    return rows;
  }
}
