/**
 * The version of this package (from its package.json), for `redun --version` and the
 * `redun.version` tag of every execution.
 */
import fs from "node:fs";

let version: string | undefined;

/** The package's version (src/values and dist/values are both two folders below it). */
export function packageVersion(): string {
  version ??= (
    JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    }
  ).version;
  return version;
}
