/**
 * Versioned schema migrations, written once for both dialects with Kysely's schema builder.
 * Each migration moves the schema from version N-1 to N (`up`) and back (`down`).
 */
import { initialSchema } from "./001-initial.ts";
import type { Migration } from "./types.ts";

export type { Migration } from "./types.ts";

/** Every migration, in order. The last one is the version this library writes. */
export const MIGRATIONS: readonly Migration[] = [initialSchema];

/** The newest schema version. */
export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/**
 * The schema versions this library can read and write: a database outside this range must
 * be upgraded (or the library upgraded) first.
 */
export const COMPATIBLE_VERSIONS = { min: 1, max: LATEST_VERSION };
