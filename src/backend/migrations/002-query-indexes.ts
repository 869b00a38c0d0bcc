/**
 * Schema version 2: indexes for provenance queries (`redun log`, the web UI): executions
 * newest first, jobs by start time, and which evaluations produced a value. Version 1
 * databases still work without them (they are only slower to query).
 */
import type { Kysely } from "kysely";
import type { Migration } from "./migration.ts";

async function up(db: Kysely<any>): Promise<void> {
  const s = db.schema;
  await s
    .createIndex("ix_execution_updated_time")
    .ifNotExists()
    .on("execution")
    .column("updated_time")
    .execute();
  await s.createIndex("ix_job_start_time").ifNotExists().on("job").column("start_time").execute();
  await s
    .createIndex("ix_evaluation_value")
    .ifNotExists()
    .on("evaluation")
    .column("value_hash")
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  for (const index of ["ix_execution_updated_time", "ix_job_start_time", "ix_evaluation_value"])
    await db.schema.dropIndex(index).ifExists().execute();
}

export const queryIndexes: Migration = {
  version: 2,
  description:
    "indexes for provenance queries: executions by time, jobs by start, values' producers",
  up,
  down,
};
