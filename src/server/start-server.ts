/**
 * `redun server`: opens the configured database read-only, serves the web UI on
 * `host:port` (127.0.0.1 unless told otherwise, with a warning then: the UI shows every
 * recorded value, and has no login), prints its address, and runs until interrupted.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { openReadOnly } from "./open-readonly.ts";
import { createWebApp } from "./web-app.ts";

/** Where the web UI listens, and the configuration it reads. */
export interface ServerOptions {
  host: string;
  port: number;
  /** The configuration directory (`--config`), else found as every command finds it. */
  configDir?: string;
}

/** A web UI being served. */
export interface RunningServer {
  url: string;
  /** Stops serving (open event streams included) and closes the database. */
  close(): Promise<void>;
}

/** Hosts that only this machine can reach. */
const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);

/**
 * Starts the web UI and resolves once it listens.
 * @throws ConfigError, DatabaseConnectionError (and the like) when the database cannot be
 *   opened; an Error naming the address when it cannot listen there.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { backend, location } = await openReadOnly(options.configDir);
  const app = createWebApp({ source: backend, location });
  let server: ReturnType<typeof serve>;
  let info: AddressInfo;
  try {
    [server, info] = await new Promise<[ReturnType<typeof serve>, AddressInfo]>(
      (resolve, reject) => {
        const s = serve({ fetch: app.fetch, hostname: options.host, port: options.port }, (i) =>
          resolve([s, i]),
        );
        s.once("error", (error: NodeJS.ErrnoException) =>
          reject(
            new Error(
              `cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}`,
            ),
          ),
        );
      },
    );
  } catch (error) {
    await backend.close();
    throw error;
  }
  const host = info.family === "IPv6" ? `[${info.address}]` : info.address;
  return {
    url: `http://${host}:${info.port}`,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
      await backend.close();
    },
  };
}

/** Runs `redun server` until SIGINT or SIGTERM. */
export async function runServer(options: ServerOptions): Promise<void> {
  if (!LOOPBACK.has(options.host)) {
    process.stderr.write(
      `redun server: warning: listening on ${options.host}, reachable from other machines; ` +
        "the web UI has no login and shows every recorded value\n",
    );
  }
  const running = await startServer(options);
  process.stdout.write(`redun server: serving ${running.url} (read-only; Ctrl-C stops it)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      void running.close().then(resolve, resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}
