/**
 * The version of this package (from its package.json), for `redun --version` and the
 * `redun.version` tag of every execution.
 */
import fs from "node:fs";
import path from "node:path";
import { PACKAGE_ROOT } from "./package-root.ts";

let version: string | undefined;

/** The package's version. */
export function packageVersion(): string {
  version ??= (
    JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, "package.json"), "utf8")) as {
      version: string;
    }
  ).version;
  return version;
}
