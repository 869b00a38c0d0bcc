/**
 * Versioned schema migrations, written once for both dialects with Kysely's schema builder.
 * Each migration moves the schema from version N-1 to N (`up`) and back (`down`).
 */
import { initialSchema } from "./001-initial.ts";
import { queryIndexes } from "./002-query-indexes.ts";
import { callClaims } from "./003-call-claims.ts";
import type { Migration } from "./migration.ts";

export type { Migration } from "./migration.ts";

/** Every migration, in order. The last one is the version this library writes. */
export const MIGRATIONS: readonly Migration[] = [initialSchema, queryIndexes, callClaims];

/** The newest schema version. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * The schema versions this library can read and write: a database outside this range must
 * be upgraded (or the library upgraded) first. Version 1 lacks only version 2's indexes and
 * version 3's call claims (runs on it claim nothing), so a shared database that has not
 * been migrated yet keeps working.
 */
export const COMPATIBLE_VERSIONS = { min: 1, max: LATEST_VERSION };
