// Entry point of the SQLite writer thread (sqlite-write-thread.ts), beside its modules: in
// dist/ (compiled) they load natively; from src/ (redun run from its sources, as in its
// tests) TypeScript support goes in first, since Node 20 cannot load a .ts module by itself.
import fs from "node:fs";

const compiled = fs.existsSync(new URL("./sqlite-write-worker.js", import.meta.url));
if (!compiled) {
  const { enableTypeScript } = await import("../loader/enable.mjs");
  await enableTypeScript();
}
await import(compiled ? "./sqlite-write-worker.js" : "./sqlite-write-worker.ts");
