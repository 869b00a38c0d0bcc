// Import rules for src/, checked by dependency-cruiser (`npm run lint:imports`, part of `npm run
// lint`): no import cycles, and no folder importing a folder of a higher layer.
//
// Layers, lowest first (a module may import its own layer, if that makes no cycle, and any lower):
//   0. src/values, src/config
//   1. src/api, src/backend, src/expressions, src/files
//   2. src/executors, src/scheduler
//   3. src/cli, src/server
//   4. src/index.ts
// src/loader (the .mjs TypeScript-support glue) imports nothing of src/ outside itself. Entry
// points enable it: src/executors, src/cli, src/server, src/index.ts and the `.mjs` entry files
// of worker threads in other folders (e.g. src/backend/sqlite-write-entry.mjs, which must load
// the thread's .ts modules when redun runs from src/); the .ts modules of lower layers may not.
//
// Type-only imports (`import type`) count: a cycle of types still ties the modules' designs
// together, and an upward type import is still an upward dependency. Dynamic `import()` counts too.
//
// scripts/lint-imports.mjs runs these rules over src/ and prints one line per violation; the
// rules are also valid for the depcruise CLI (`npx depcruise src --config .dependency-cruiser.cjs`).

/** Folders of each layer, lowest first; index.ts sits above them all. */
const LAYERS = [
  ["values", "config"],
  ["api", "backend", "expressions", "files"],
  ["executors", "scheduler"],
  ["cli", "server"],
];

/** A regular expression matching modules in any of `folders` (under src/). */
const inFolders = (folders) => `^src/(${folders.join("|")})/`;

/**
 * For every layer but the top: forbid importing anything of src/ not in this or a lower layer
 * (src/loader has a rule of its own).
 */
const upwardRules = LAYERS.map((folders, i) => {
  const allowed = LAYERS.slice(0, i + 1).flat();
  return {
    name: `no-upward-import-from-${folders.join("-")}`,
    comment: `src/{${folders.join(",")}} (layer ${i}) may import only src/{${allowed.join(",")}}.`,
    severity: "error",
    from: { path: inFolders(folders) },
    to: { path: "^src/", pathNot: inFolders([...allowed, "loader"]) },
  };
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-import-cycle",
      comment: "Modules of src/ must not import each other in a circle (type-only imports count).",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true },
    },
    ...upwardRules,
    {
      name: "no-import-of-loader-outside-entry-points",
      comment:
        "Only src/executors, src/cli, src/server, src/index.ts and worker-thread entry files " +
        "(.mjs) may import src/loader.",
      severity: "error",
      from: {
        path: "^src/",
        pathNot: ["^src/(executors|cli|server|loader)/", "^src/index\\.ts$", "\\.mjs$"],
      },
      to: { path: "^src/loader/" },
    },
    {
      name: "no-import-from-loader-into-src",
      comment: "src/loader is glue loaded before TypeScript support; it imports only itself.",
      severity: "error",
      from: { path: "^src/loader/" },
      to: { path: "^src/", pathNot: "^src/loader/" },
    },
    {
      name: "no-module-outside-a-layer",
      comment:
        "Every module of src/ belongs to a layer folder (or is src/index.ts): add new folders here.",
      severity: "error",
      from: {
        path: "^src/",
        pathNot: [inFolders([...LAYERS.flat(), "loader"]), "^src/index\\.ts$"],
      },
      to: {},
    },
  ],
  options: {
    includeOnly: "^src/",
    doNotFollow: { path: "node_modules" },
    // Count `import type` and type-only re-exports, which the compiled JavaScript drops.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      extensions: [".ts", ".mts", ".d.mts", ".mjs", ".js"],
    },
    skipAnalysisNotInRules: true,
  },
};
