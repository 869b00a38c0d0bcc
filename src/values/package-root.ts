/**
 * Where redun's own files are: the package's root folder and the folder its code runs from
 * (dist/, compiled, or src/, run from its sources). Compiled, redun's modules are bundled into
 * a few files (scripts/build.mjs), so a module's own URL no longer says where the package is:
 * every module that needs a file of the package, or must tell redun's code from a workflow's,
 * asks here.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** True in the compiled package (dist/, bundled); false run from src/ (through tsx). */
export const COMPILED = !/\.[mc]?ts$/.test(import.meta.url);

/** The package's root folder: the nearest one above this module with a package.json. */
export const PACKAGE_ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

/** The folder redun's code runs from: `dist/` compiled, `src/` from the sources. */
export const CODE_DIR = path.join(PACKAGE_ROOT, COMPILED ? "dist" : "src");

/** True for a file of redun's own code (under {@link CODE_DIR}). */
export function isOwnCode(file: string): boolean {
  return file.startsWith(CODE_DIR + path.sep);
}

/** The file URL of `relative` (a `/`-separated path) under {@link CODE_DIR}. */
export function codeUrl(relative: string): URL {
  return pathToFileURL(path.join(CODE_DIR, ...relative.split("/")));
}

/** src/ and dist/ have no package.json: the first one above is the package's own. */
function findRoot(dir: string): string {
  for (let at = dir; ; at = path.dirname(at)) {
    if (fs.existsSync(path.join(at, "package.json"))) return at;
    if (path.dirname(at) === at) throw new Error(`redun: no package.json above ${dir}`);
  }
}
