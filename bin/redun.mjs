#!/usr/bin/env node
// The `redun` command: runs the compiled CLI in dist/, which `npm run build` makes (and
// `npm ci`, `npm install` and `npm pack` run it through the `prepare` script). TypeScript
// support for workflow files is registered later, only by commands that may import them.
import module from "node:module";

// Node 22.1+: V8 keeps the compiled code of redun's modules (and tsx's, and the workflow's)
// in a disk cache (NODE_COMPILE_CACHE, or a folder in the OS's temporary directory), which
// saves a good part of each start. Node 20 has no such cache.
module.enableCompileCache?.();
let main;
try {
  ({ main } = await import("../dist/cli/main.js"));
} catch (error) {
  if (error?.code !== "ERR_MODULE_NOT_FOUND" || !String(error.message).includes("/dist/cli/")) {
    throw error;
  }
  process.stderr.write("redun: the package is not built (no dist/): run `npm run build` in it\n");
  process.exit(2);
}
// A reader that stops early (`redun log | head -1`) closes the pipe: end quietly, with the
// status of a command killed by SIGPIPE (128 + 13), as other command-line tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error?.code !== "EPIPE") throw error;
    process.exit(141);
  });
}
const code = await main(process.argv.slice(2));
// File writes still in flight finish first (for 0.2 s at most): tsx writes its cache of
// transformed files without waiting, and a write cut short makes the next start transform
// the file again.
const until = performance.now() + 200;
while (
  performance.now() < until &&
  process.getActiveResourcesInfo?.().some((resource) => resource.startsWith("FSReq"))
) {
  await new Promise((resolve) => setTimeout(resolve, 1));
}
// Exit explicitly: a workflow may leave timers or sockets open after its result is printed.
process.exit(code);
