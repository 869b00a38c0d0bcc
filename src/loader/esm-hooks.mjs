// Module hooks registered after tsx.
//
// 1. `redun` (and `redun/…`) always resolves to the running redun package, whatever
//    node_modules the importing file sees (none, in code unpacked by `redun oneshot`
//    inside a container; another copy elsewhere). Two copies of the engine in one process
//    would keep two task registries. The package resolves its own name ("self-reference").
// 2. A workflow written in TypeScript is an ES module even when the nearest package.json
//    does not say "type": "module" (a script in a folder with no package.json, say).
//    Without this, tsx would load it as CommonJS and its `import` of redun would fail.
//    Files under node_modules keep whatever format their package declares.
//
//    Which copy: package.json's "redun-source" export condition names src/index.ts, the
//    default dist/index.js. Run from dist/, these hooks drop that condition (set for the
//    test suite, whose own code imports src/); run from src/, they add it.
//
// `resolve` is for module.register (hooks on their own thread, Node 20); `resolveSync` is
// the same hook for module.registerHooks (same thread, Node 22.15+), where tsx registers too.
import fs from "node:fs";

const SELF = new URL("../../package.json", import.meta.url).href;
const SOURCE_CONDITION = "redun-source";
const FROM_SOURCE = !fs.existsSync(new URL("../index.js", import.meta.url));

function isSelf(specifier) {
  return specifier === "redun" || specifier.startsWith("redun/");
}

/** The resolve context for the package's own name: from this package, this copy's condition. */
function selfContext(context) {
  const conditions = (context.conditions ?? []).filter((c) => c !== SOURCE_CONDITION);
  if (FROM_SOURCE) conditions.unshift(SOURCE_CONDITION);
  return { ...context, parentURL: SELF, conditions };
}

function asModule(result) {
  if (
    result.url.startsWith("file:") &&
    !result.url.includes("/node_modules/") &&
    /\.tsx?(\?.*)?$/.test(result.url) &&
    result.format !== "module"
  ) {
    return { ...result, format: "module" };
  }
  return result;
}

export async function resolve(specifier, context, nextResolve) {
  if (isSelf(specifier)) {
    try {
      return await nextResolve(specifier, selfContext(context));
    } catch {
      // Not exported by this package: resolve it the usual way.
    }
  }
  return asModule(await nextResolve(specifier, context));
}

export function resolveSync(specifier, context, nextResolve) {
  if (isSelf(specifier)) {
    try {
      return nextResolve(specifier, selfContext(context));
    } catch {
      // Not exported by this package: resolve it the usual way.
    }
  }
  return asModule(nextResolve(specifier, context));
}
