/** What a migration is, and column types that differ between dialects. */
import type { Kysely } from "kysely";
import { sql } from "../kysely-module.ts";
import type { Dialect } from "../database.ts";

/** One schema version. */
export interface Migration {
  version: number;
  description: string;
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
  down(db: Kysely<any>, dialect: Dialect): Promise<void>;
}

/** The column type for raw bytes in each dialect. */
export function bytesType(dialect: Dialect) {
  return dialect === "postgresql" ? sql`bytea` : sql`blob`;
}
