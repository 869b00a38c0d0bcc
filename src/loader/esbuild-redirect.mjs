// Points tsx's import of esbuild at esbuild-lazy.mjs, which loads esbuild only when tsx first
// transforms a file (a cached start never does). esbuild is a large CommonJS file: importing
// it costs some 20 ms, and on Node 20 Node's CommonJS lexer, which scans it for its exports,
// gets hot enough that V8 compiles it with its optimizing compiler (tens of milliseconds on
// another core, in each thread that loads tsx). enable.mjs registers this hook before tsx's:
// as a same-thread hook on Node 22.15+ (`redirectSync`), and through module.register before
// that (`initialize` and `resolve`, on the hooks thread), where the hooks registered first
// also resolve the imports of the hook modules registered after them, tsx's included.
import module from "node:module";

/** tsx's folder, and the URL that stands in for the esbuild it imports. */
export function esbuildRedirect() {
  // tsx's ESM API is dist/esm/api/index.mjs in its folder.
  const tsxRoot = new URL("../../../", import.meta.resolve("tsx/esm/api")).href;
  const esbuild = module.createRequire(tsxRoot).resolve("esbuild");
  const url = new URL(`./esbuild-lazy.mjs?main=${encodeURIComponent(esbuild)}`, import.meta.url)
    .href;
  return { tsxRoot, url };
}

let target;

/** Receives `esbuildRedirect()` (module.register's `data`). */
export function initialize(data) {
  target = data;
}

function redirected(specifier, context, { tsxRoot, url }) {
  return specifier === "esbuild" && context.parentURL?.startsWith(tsxRoot)
    ? { url, format: "module", shortCircuit: true }
    : undefined;
}

export async function resolve(specifier, context, nextResolve) {
  return redirected(specifier, context, target) ?? nextResolve(specifier, context);
}

/** The same hook for module.registerHooks. */
export function redirectSync(redirect) {
  return (specifier, context, nextResolve) =>
    redirected(specifier, context, redirect) ?? nextResolve(specifier, context);
}
