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
const SELF = new URL("../../package.json", import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === "redun" || specifier.startsWith("redun/")) {
    try {
      return await nextResolve(specifier, { ...context, parentURL: SELF });
    } catch {
      // Not exported by this package: resolve it the usual way.
    }
  }
  const result = await nextResolve(specifier, context);
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
