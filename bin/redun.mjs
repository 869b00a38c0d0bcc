#!/usr/bin/env node
// The `redun` command. Registers TypeScript support (tsx) so that workflow files, and redun
// itself, run without a build step, then hands over to the CLI.
import "../src/loader/register.mjs";

const { main } = await import("../src/cli/main.ts");
const code = await main(process.argv.slice(2));
// Exit explicitly: a workflow may leave timers or sockets open after its result is printed.
process.exit(code);
