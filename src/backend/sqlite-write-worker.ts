/**
 * The SQLite writer thread: its own connection to the database file, the same prepared
 * statements as the in-thread path (`SqliteWriter`), one transaction per batch it is sent.
 * Replies carry the change count, or the error's name, message and code (so that the
 * scheduler's retry rules see a busy database as the in-thread path would).
 */
import { parentPort, workerData } from "node:worker_threads";
import { openSqlite } from "./database.ts";
import { SqliteWriter } from "./sqlite-writes.ts";
import { claimCallsSqlite, type Claims } from "./call-claims.ts";
import type { WriteReply, WriteRequest } from "./sqlite-write-thread.ts";

const handle = openSqlite((workerData as { file: string }).file);
const writer = new SqliteWriter(handle.sqlite as never, () => handle.db);
const port = parentPort!;
port.postMessage({ ready: true } satisfies WriteReply);

function claimReply({ held, recorded }: Claims): { claimed: string[]; recorded: string[] } {
  return { claimed: [...held], recorded: [...recorded] };
}

port.on("message", (request: WriteRequest) => {
  if (request.type === "close") {
    void handle.close().finally(() => port.close());
    return;
  }
  let reply: WriteReply;
  try {
    reply =
      request.type === "claim"
        ? {
            id: request.id,
            changed: 0,
            ...claimReply(
              claimCallsSqlite(handle.sqlite!, request.holder, request.evalHashes, request.leaseMs),
            ),
          }
        : {
            id: request.id,
            changed: writer.writeNow(request.batch, request.mode, request.releases),
          };
  } catch (error) {
    const { name, message, code } = error as { name?: string; message?: string; code?: unknown };
    reply = {
      id: request.id,
      error: {
        name: String(name ?? "Error"),
        message: String(message ?? error),
        code: typeof code === "string" ? code : undefined,
      },
    };
  }
  port.postMessage(reply);
});
