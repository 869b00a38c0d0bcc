// Module hooks registered after tsx: a workflow written in TypeScript is an ES module even
// when the nearest package.json does not say "type": "module" (a script in a folder with no
// package.json, say). Without this, tsx would load it as CommonJS and its `import` of redun
// would fail. Files under node_modules keep whatever format their package declares.
export async function resolve(specifier, context, nextResolve) {
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
