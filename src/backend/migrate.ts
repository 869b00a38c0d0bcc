/**
 * Applying schema migrations, one transaction per version, under a lock so that two
 * processes never migrate the same database at once.
 */
import { randomUUID } from "node:crypto";
import type { Database as SQLiteConnection } from "better-sqlite3";
import type { Kysely } from "kysely";
import { sql } from "./kysely-module.ts";
import type { Dialect } from "./connection.ts";
import { exclusiveInProcess, type DatabaseHandle } from "./database.ts";
import { COMPATIBLE_VERSIONS, LATEST_VERSION, MIGRATIONS } from "./migrations/all-migrations.ts";
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";

/** A database whose schema this library cannot use as it is. */
export class SchemaVersionError extends RedunError {
  override name = "SchemaVersionError";
  override get code() {
    return "REDUN_SCHEMA_VERSION" as const;
  }
}
registerErrorClass(SchemaVersionError);

/**
 * Whether the version table exists, by dialect: one catalog lookup (Kysely's introspection
 * would read every table's columns, a good part of a cached run's start).
 */
const VERSION_TABLE_SQL: Record<Dialect, string> = {
  sqlite: "select 1 from sqlite_master where type = 'table' and name = 'redun_version'",
  postgresql:
    "select 1 from information_schema.tables " +
    "where table_schema = current_schema() and table_name = 'redun_version'",
};
/** The newest recorded version. */
const VERSION_SQL = "select version from redun_version order by id desc limit 1";

/** The schema version of a database (0 for an empty one). */
export async function schemaVersion(handle: DatabaseHandle): Promise<number> {
  const sqlite = handle.sqlite as SQLiteConnection | undefined;
  // SQLite: through the driver itself, so that a run whose schema is current loads no Kysely.
  if (sqlite) {
    if (!sqlite.prepare(VERSION_TABLE_SQL.sqlite).get()) return 0;
    const row = sqlite.prepare(VERSION_SQL).get() as { version: number } | undefined;
    return row ? Number(row.version) : 0;
  }
  return readVersion(handle.db as Kysely<any>, handle.dialect);
}

async function hasVersionTable(db: Kysely<any>, dialect: Dialect): Promise<boolean> {
  return (await sql.raw(VERSION_TABLE_SQL[dialect]).execute(db)).rows.length > 0;
}

async function readVersion(db: Kysely<any>, dialect: Dialect): Promise<number> {
  if (!(await hasVersionTable(db, dialect))) return 0;
  const { rows } = await sql.raw<{ version: number }>(VERSION_SQL).execute(db);
  return rows[0] ? Number(rows[0].version) : 0;
}

/** Every recorded version change, oldest first. */
export async function versionHistory(
  handle: DatabaseHandle,
): Promise<{ version: number; timestamp: string }[]> {
  const db = handle.db as Kysely<any>;
  if (!(await hasVersionTable(db, handle.dialect))) return [];
  const rows = await db
    .selectFrom("redun_version")
    .select(["version", "timestamp"])
    .orderBy("id")
    .execute();
  return rows.map((r) => ({ version: Number(r.version), timestamp: String(r.timestamp) }));
}

/**
 * Migrates the schema to `target` (up or down). Returns the versions passed through.
 */
export function migrateTo(handle: DatabaseHandle, target: number): Promise<number[]> {
  return exclusiveInProcess(handle, () => migrateLocked(handle, target));
}

async function migrateLocked(handle: DatabaseHandle, target: number): Promise<number[]> {
  if (!Number.isInteger(target) || target < 0 || target > LATEST_VERSION) {
    throw new SchemaVersionError(
      `Unknown schema version ${target}: versions are 0 to ${LATEST_VERSION}`,
    );
  }
  const steps: number[] = [];
  await handle.db.connection().execute(async (conn) => {
    const db = conn as Kysely<any>;
    await lock(db, handle);
    try {
      let current = await readVersion(db, handle.dialect);
      while (current !== target) {
        const up = current < target;
        const migration = up
          ? MIGRATIONS.find((m) => m.version === current + 1)
          : MIGRATIONS.find((m) => m.version === current);
        if (!migration) throw new SchemaVersionError(`No migration from schema version ${current}`);
        if (up) await migration.up(db, handle.dialect);
        else await migration.down(db, handle.dialect);
        current = up ? migration.version : migration.version - 1;
        await recordVersion(db, current);
        steps.push(current);
      }
      await sql`COMMIT`.execute(db);
    } catch (error) {
      await sql`ROLLBACK`.execute(db).catch(() => {});
      throw error;
    }
  });
  return steps;
}

async function lock(db: Kysely<any>, handle: DatabaseHandle): Promise<void> {
  if (handle.dialect === "sqlite") {
    await sql`BEGIN IMMEDIATE`.execute(db);
  } else {
    await sql`BEGIN`.execute(db);
    // A fixed key: "redun" as an integer. Held until COMMIT or ROLLBACK.
    await sql`SELECT pg_advisory_xact_lock(7365735)`.execute(db);
  }
}

let versionSequence = 0;

async function recordVersion(db: Kysely<any>, version: number): Promise<void> {
  await db.schema
    .createTable("redun_version")
    .ifNotExists()
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("version", "integer", (c) => c.notNull())
    .addColumn("timestamp", "text", (c) => c.notNull())
    .execute();
  const timestamp = new Date().toISOString();
  // Ids sort in the order versions were recorded, even within one millisecond.
  const id = `${timestamp}-${String(++versionSequence).padStart(6, "0")}-${randomUUID().slice(0, 8)}`;
  await db.insertInto("redun_version").values({ id, version, timestamp }).execute();
}

/**
 * Makes sure the database can be used: migrates it when `automigrate` is on, otherwise
 * fails with a message that says which command upgrades it.
 * @returns the schema version the database is at now.
 */
export async function ensureSchema(handle: DatabaseHandle, automigrate: boolean): Promise<number> {
  const version = await schemaVersion(handle);
  if (version > COMPATIBLE_VERSIONS.max) {
    throw new SchemaVersionError(
      `The database ${handle.location} is at schema version ${version}, newer than this redun ` +
        `supports (${COMPATIBLE_VERSIONS.min}-${COMPATIBLE_VERSIONS.max}); upgrade redun`,
    );
  }
  if (version === LATEST_VERSION) return version;
  if (automigrate) {
    // migrateTo reads the version again under its lock: another process may have done it.
    await migrateTo(handle, LATEST_VERSION);
    return LATEST_VERSION;
  }
  if (version >= COMPATIBLE_VERSIONS.min) return version;
  throw new SchemaVersionError(
    `The database ${handle.location} is at schema version ${version} and needs version ` +
      `${LATEST_VERSION}; run \`redun db upgrade\` (automigrate is off for this database)`,
  );
}
