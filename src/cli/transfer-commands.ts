/**
 * `redun export [--execution ID]... [FILE]`, `redun import FILE`, and
 * `redun push REPO` / `redun pull REPO` between this repository and another (a
 * configuration directory or a database URI). Importing the same rows twice changes
 * nothing.
 */
import fs from "node:fs";
import type { Command } from "commander";
import type { Backend } from "../backend/backend.ts";
import { resolveId } from "../backend/queries.ts";
import { importRows, readExport, transfer, writeExport } from "../backend/transfer.ts";
import { openRepository } from "./repositories.ts";
import { withBackendAndTypes } from "./value-types.ts";
import { UsageError } from "./error-report.ts";
import type { GlobalOptions } from "./global.ts";

/** `export` only reads: it creates no repository and opens SQLite read-only. */
const READ_ONLY = { readOnly: true };

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function executionIds(backend: Backend, ids: string[] | undefined) {
  if (!ids?.length) return undefined;
  const resolved: string[] = [];
  for (const id of ids) {
    const target = await resolveId(backend.db, id, ["execution"]).catch((error) => {
      throw new UsageError((error as Error).message);
    });
    resolved.push(target.id);
  }
  return resolved;
}

/** Adds `export`, `import`, `push` and `pull`. */
export function transferCommands(program: Command): void {
  const global = () => program.opts<GlobalOptions>();

  program
    .command("export")
    .description("write provenance as JSON lines (all of it, or some executions)")
    .argument("[file]", "output file (default: standard output)")
    .option("--execution <id>", "only this execution and what it references (repeatable)", collect)
    .action((file: string | undefined, options: { execution?: string[] }) =>
      withBackendAndTypes(
        global(),
        async (backend) => {
          const ids = await executionIds(backend, options.execution);
          const toStdout = !file || file === "-";
          const out = toStdout ? process.stdout : fs.createWriteStream(file);
          const count = await writeExport(backend, out, { executionIds: ids });
          if (!toStdout) {
            await new Promise<void>((resolve, reject) =>
              (out as fs.WriteStream).end((error?: Error | null) =>
                error ? reject(error) : resolve(),
              ),
            );
          }
          process.stderr.write(`[redun] Exported ${count} rows.\n`);
        },
        READ_ONLY,
      ),
    );

  program
    .command("import")
    .description("read provenance written by `redun export` into this repository")
    .argument("<file>", "JSON lines file (- for standard input)")
    .action((file: string) =>
      withBackendAndTypes(global(), async (backend) => {
        if (file !== "-" && !fs.existsSync(file)) throw new UsageError(`file not found: ${file}`);
        const result = await importRows(backend, readExport(file));
        process.stdout.write(`imported ${result.rows} rows (${result.changed} new)\n`);
      }),
    );

  for (const direction of ["push", "pull"] as const) {
    program
      .command(direction)
      .description(
        direction === "push"
          ? "copy provenance from this repository to another"
          : "copy provenance from another repository to this one",
      )
      .argument("<repo>", "configuration directory, or sqlite:/// or postgresql:// URI")
      .option(
        "--execution <id>",
        "only this execution and what it references (repeatable)",
        collect,
      )
      .option("--migrate", "migrate the other repository's schema first if it needs it")
      .action((repo: string, options: { execution?: string[]; migrate?: boolean }) =>
        withBackendAndTypes(global(), async (local) => {
          const other = await openRepository(repo, { migrate: options.migrate });
          try {
            const [source, target] = direction === "push" ? [local, other] : [other, local];
            const ids = await executionIds(source, options.execution);
            const result = await transfer(source, target, { executionIds: ids });
            process.stdout.write(
              `${direction === "push" ? "pushed" : "pulled"} ${result.rows} rows (${result.changed} new)\n`,
            );
          } finally {
            await other.close();
          }
        }),
      );
  }
}
