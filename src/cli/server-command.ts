/**
 * `redun server [--port N] [--host H]`: the web UI over the configured database. Only this
 * registration is loaded with the command line; the server (hono, dagre) is imported when
 * the command runs, so `redun --help` and every other command pay nothing for it.
 */
import type { Command } from "commander";
import { UsageError } from "./error-report.ts";
import type { GlobalOptions } from "./global.ts";
import { loadValueTypes } from "./value-types.ts";

interface ServerCommandOptions {
  port: string;
  host: string;
}

/** Adds the `server` command. */
export function serverCommand(program: Command): void {
  program
    .command("server")
    .description("serve a web UI over the provenance database (read-only)")
    .option("--port <n>", "port to listen on (0: any free port)", "8080")
    .option(
      "--host <host>",
      "address to listen on (another than 127.0.0.1 prints a warning)",
      "127.0.0.1",
    )
    .action(async (options: ServerCommandOptions) => {
      const port = Number(options.port);
      if (!/^\d+$/.test(options.port) || port > 65535)
        throw new UsageError(`--port expects a port number (0-65535), got "${options.port}"`);
      if (!options.host.trim()) throw new UsageError("--host expects an address, got nothing");
      // Values are shown decoded: the built-in types (File, Dir, …) must be known.
      await loadValueTypes();
      const { runServer } = await import("../server/start-server.ts");
      await runServer({
        host: options.host,
        port,
        configDir: program.opts<GlobalOptions>().config,
      });
    });
}
