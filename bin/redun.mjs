#!/usr/bin/env node
// The `redun` command: runs the compiled CLI in dist/, which `npm run build` makes (and
// `npm ci`, `npm install` and `npm pack` run it through the `prepare` script). TypeScript
// support for workflow files is registered later, only by commands that may import them.
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
const code = await main(process.argv.slice(2));
// Exit explicitly: a workflow may leave timers or sockets open after its result is printed.
process.exit(code);
