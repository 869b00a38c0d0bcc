/**
 * Kysely, loaded on first use. A cached `redun run` reads and writes SQLite through
 * better-sqlite3 statements of its own and builds no query, so it need not load Kysely
 * (0.4 MB of code: some 6 ms of a start that takes 0.1 s). It is loaded synchronously,
 * since a database handle's `db` is a property: compiled, from `dist/vendor/kysely.cjs`
 * (Kysely bundled into one CommonJS file by scripts/build.mjs); run from the sources, from
 * the package itself.
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type * as KyselyModule from "kysely";
import { codeUrl, COMPILED } from "../values/package-root.ts";

let loaded: typeof KyselyModule | undefined;

/** Kysely's exports (`Kysely`, the dialects, `sql`, …), loaded the first time they are asked for. */
export function kysely(): typeof KyselyModule {
  loaded ??= createRequire(import.meta.url)(
    COMPILED ? fileURLToPath(codeUrl("vendor/kysely.cjs")) : "kysely",
  ) as typeof KyselyModule;
  return loaded;
}

/**
 * Kysely's `sql` template tag (and `sql.ref`, `sql.table`, …), loading Kysely when first
 * used rather than when imported.
 */
export const sql: typeof KyselyModule.sql = new Proxy(function () {} as never, {
  apply: (_target, _this, args: unknown[]) =>
    (kysely().sql as unknown as (...a: unknown[]) => unknown)(...args),
  get: (_target, key) => (kysely().sql as unknown as Record<PropertyKey, unknown>)[key],
});
