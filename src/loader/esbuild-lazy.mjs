// What tsx imports from esbuild (`version`, `transform`, `transformSync`), with esbuild itself
// loaded on the first transform. tsx imports esbuild when it loads; esbuild takes some 20 ms
// of a start to load, and most starts never call it (tsx keeps transformed files in a disk
// cache). enable.mjs points tsx's import of "esbuild" here (`?main=` names the file of the
// esbuild that tsx resolves).
import fs from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const main = new URL(import.meta.url).searchParams.get("main");
const require = createRequire(import.meta.url);
let esbuild;
const load = () => (esbuild ??= require(main));

/** esbuild's version (part of tsx's cache keys), read from its package.json. */
export const version = JSON.parse(
  fs.readFileSync(new URL("../package.json", pathToFileURL(main)), "utf8"),
).version;

export function transform(...args) {
  return load().transform(...args);
}

export function transformSync(...args) {
  return load().transformSync(...args);
}
