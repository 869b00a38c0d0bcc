/**
 * `redun db check`: is the database sound? On SQLite, the engine's own integrity check
 * (`PRAGMA integrity_check`: pages, indexes, free lists); on every dialect, the provenance's
 * own consistency: every recorded result and every evaluation points at a stored value,
 * every job at its execution, every call edge at a recorded call. PostgreSQL keeps its pages
 * consistent itself; its check is the consistency part.
 */
import type { Kysely } from "kysely";
import { sql } from "./kysely-module.ts";
import type { DatabaseHandle } from "./connection.ts";
import type { Database } from "./schema.ts";

/** What a check found. */
export interface DatabaseCheck {
  /** Problems, one sentence each; empty when the database is sound. */
  problems: string[];
  /** What was checked, for the report. */
  checked: string[];
}

/** Rows of a table with no row their column points at in another. */
async function dangling(
  db: Kysely<Database>,
  from: { table: string; column: string },
  to: { table: string; column: string },
): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`
    select count(*) as n from ${sql.table(from.table)} f
    where not exists (
      select 1 from ${sql.table(to.table)} t where t.${sql.ref(to.column)} = f.${sql.ref(from.column)}
    )`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

const LINKS: [string, { table: string; column: string }, { table: string; column: string }][] = [
  [
    "evaluations whose value is missing",
    { table: "evaluation", column: "value_hash" },
    { table: "value", column: "value_hash" },
  ],
  [
    "calls whose result is missing",
    { table: "call_node", column: "value_hash" },
    { table: "value", column: "value_hash" },
  ],
  [
    "jobs whose execution is missing",
    { table: "job", column: "execution_id" },
    { table: "execution", column: "id" },
  ],
  [
    "call edges to a call that is not recorded",
    { table: "call_edge", column: "child_id" },
    { table: "call_node", column: "call_hash" },
  ],
];

/**
 * Checks a database (at a schema version that has the provenance tables).
 * @throws the driver's error when the file cannot be read at all (that is a problem too,
 *   reported by the caller with the location).
 */
export async function checkDatabase(handle: DatabaseHandle): Promise<DatabaseCheck> {
  const problems: string[] = [];
  const checked: string[] = [];
  if (handle.dialect === "sqlite") {
    const { rows } = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(
      handle.db,
    );
    const lines = rows.map((r) => Object.values(r)[0] as string);
    checked.push("SQLite integrity check");
    if (!(lines.length === 1 && lines[0] === "ok")) {
      for (const line of lines.slice(0, 20)) problems.push(`SQLite integrity check: ${line}`);
    }
  }
  for (const [what, from, to] of LINKS) {
    const n = await dangling(handle.db, from, to);
    checked.push(what);
    if (n > 0) problems.push(`${what}: ${n}`);
  }
  return { problems, checked };
}
