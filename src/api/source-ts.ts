/**
 * The TypeScript compiler, loaded on first use only. Importing it costs 0.3–2 s, so a run whose
 * source analyses are all cached (see source-cache.ts) must never reach this module's loader.
 */
import { createRequire } from "node:module";
import type * as TS from "typescript";

export type { TS };

let loaded: typeof TS | undefined;

/** The `typescript` module, required synchronously (task definition is synchronous). */
export function typescript(): typeof TS {
  return (loaded ??= createRequire(import.meta.url)("typescript") as typeof TS);
}
