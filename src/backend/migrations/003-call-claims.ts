/**
 * Schema version 3: `call_claim`, the leases schedulers sharing a database take on the calls
 * they run, so that no call runs twice (see `../call-claims.ts`). A version 2 database still
 * works, without claims.
 */
import type { Kysely } from "kysely";
import type { Migration } from "./migration.ts";

async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable("call_claim")
    .ifNotExists()
    .addColumn("eval_hash", "text", (c) => c.primaryKey())
    .addColumn("holder", "text", (c) => c.notNull())
    // Milliseconds since the epoch: exact in a double, read back as a number by both drivers.
    .addColumn("expires_at", "double precision", (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex("ix_call_claim_holder")
    .ifNotExists()
    .on("call_claim")
    .column("holder")
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable("call_claim").ifExists().execute();
}

export const callClaims: Migration = {
  version: 3,
  description: "call claims: a lease per call being run, so that schedulers never run one twice",
  up,
  down,
};
