/**
 * `redun db info | versions | upgrade [VERSION] | downgrade VERSION | check`.
 */
import fs from "node:fs";
import type { Command } from "commander";
import { openDatabase, type DatabaseHandle } from "../backend/database.ts";
import { backendOptionsFromConfig } from "../backend/from-config.ts";
import { checkDatabase } from "../backend/db-check.ts";
import { migrateTo, schemaVersion, versionHistory } from "../backend/migrate.ts";
import {
  COMPATIBLE_VERSIONS,
  LATEST_VERSION,
  MIGRATIONS,
} from "../backend/migrations/all-migrations.ts";
import { UsageError } from "./error-report.ts";
import { loadCliConfig, type GlobalOptions } from "./global.ts";

/**
 * Opens the configured database, runs `fn`, and closes it. `readOnly` (info, check,
 * versions): no `.redun/` or database file is created, and SQLite is opened read-only; a
 * SQLite file that does not exist yet reads as an empty database (schema version 0).
 */
async function withDatabase<T>(
  global: GlobalOptions,
  readOnly: boolean,
  fn: (handle: DatabaseHandle, automigrate: boolean) => Promise<T>,
): Promise<T> {
  const options = backendOptionsFromConfig(loadCliConfig(global, { readOnly }).backend);
  const automigrate = options.automigrate ?? !/^postgres(ql)?:\/\//.test(options.dbUri ?? "");
  const file = options.sqlitePath;
  const missing =
    readOnly &&
    file !== undefined &&
    file !== ":memory:" &&
    !/^postgres(ql)?:\/\//.test(options.dbUri ?? "") &&
    !options.connection?.awsSecretName &&
    !fs.existsSync(file);
  const handle = missing
    ? { ...(await openDatabase("sqlite:///:memory:")), location: `${file} (no file yet)` }
    : await openDatabase(options.dbUri!, {
        sqlitePath: options.sqlitePath,
        connection: { ...options.connection, readOnly },
      });
  try {
    return await fn(handle, automigrate);
  } finally {
    await handle.close();
  }
}

/** A database newer than this library: nothing here can migrate or check it. */
function tooNew(handle: DatabaseHandle, version: number, what: string): UsageError {
  return new UsageError(
    `the database ${handle.location} is at schema version ${version}, newer than this redun ` +
      `knows (latest ${LATEST_VERSION}): upgrade redun to ${what} it`,
  );
}

function parseVersion(text: string): number {
  const version = Number(text);
  if (!Number.isInteger(version) || version < 0 || version > LATEST_VERSION) {
    throw new UsageError(`unknown schema version "${text}": versions are 0 to ${LATEST_VERSION}`);
  }
  return version;
}

/** Adds the `db` command group. */
export function dbCommand(program: Command, setExitCode: (code: number) => void): void {
  const db = program.command("db").description("inspect and migrate the provenance database");
  const global = () => program.opts<GlobalOptions>();

  db.command("info")
    .description("where the database is and its schema version")
    .action(() =>
      withDatabase(global(), true, async (handle, automigrate) => {
        const version = await schemaVersion(handle);
        const status =
          version === LATEST_VERSION
            ? "up to date"
            : version > COMPATIBLE_VERSIONS.max
              ? "too new for this redun: upgrade redun"
              : version >= COMPATIBLE_VERSIONS.min
                ? "usable; `redun db upgrade` brings it to the latest version"
                : handle.location.endsWith("(no file yet)")
                  ? automigrate
                    ? "no database yet: `redun init` or the first `redun run` makes it"
                    : "no database yet: `redun init` or `redun db upgrade` makes it"
                  : "not usable yet: run `redun db upgrade`";
        process.stdout.write(
          `location: ${handle.location}\ndialect: ${handle.dialect}\nschema version: ${version}\n` +
            `library schema: ${LATEST_VERSION} (compatible ${COMPATIBLE_VERSIONS.min}-${COMPATIBLE_VERSIONS.max})\n` +
            `status: ${status}\n`,
        );
      }),
    );

  db.command("check")
    .description("check the database: SQLite's integrity check, and that provenance is whole")
    .action(() =>
      withDatabase(global(), true, async (handle) => {
        let problems: string[];
        let checked: string[] = [];
        try {
          const version = await schemaVersion(handle);
          if (version > COMPATIBLE_VERSIONS.max) throw tooNew(handle, version, "check");
          if (version < COMPATIBLE_VERSIONS.min) {
            throw new UsageError(
              `the database ${handle.location} has no provenance tables yet (schema version ` +
                `${version}): nothing to check`,
            );
          }
          ({ problems, checked } = await checkDatabase(handle));
        } catch (error) {
          if (error instanceof UsageError) throw error;
          problems = [`it cannot be read: ${(error as Error).message}`];
        }
        if (problems.length === 0) {
          process.stdout.write(`${handle.location}: ok (${checked.join("; ")})\n`);
          return;
        }
        process.stdout.write(
          `${handle.location}: ${problems.length} problem(s)\n` +
            problems.map((p) => `  ${p}\n`).join(""),
        );
        setExitCode(1);
      }),
    );

  db.command("versions")
    .description("the schema versions there are, and the database's history")
    .action(() =>
      withDatabase(global(), true, async (handle) => {
        const current = await schemaVersion(handle);
        if (current > LATEST_VERSION) {
          process.stdout.write(`* ${current}  (newer than this redun: upgrade redun)\n`);
        }
        for (const m of MIGRATIONS) {
          process.stdout.write(
            `${m.version === current ? "*" : " "} ${m.version}  ${m.description}\n`,
          );
        }
        for (const h of await versionHistory(handle))
          process.stdout.write(`  ${h.timestamp}  -> ${h.version}\n`);
      }),
    );

  db.command("upgrade")
    .description("migrate the schema up (default: to the latest version)")
    .argument("[version]", "target version")
    .action((version?: string) =>
      withDatabase(global(), false, async (handle) => {
        const target = version === undefined ? LATEST_VERSION : parseVersion(version);
        const current = await schemaVersion(handle);
        if (current > LATEST_VERSION) throw tooNew(handle, current, "migrate");
        if (target < current)
          throw new UsageError(`version ${target} is older: use \`redun db downgrade ${target}\``);
        const steps = await migrateTo(handle, target);
        process.stdout.write(
          steps.length
            ? `upgraded to schema version ${target}\n`
            : `already at schema version ${target}\n`,
        );
      }),
    );

  db.command("downgrade")
    .description("migrate the schema down to a version")
    .argument("<version>", "target version")
    .action((version: string) =>
      withDatabase(global(), false, async (handle) => {
        const target = parseVersion(version);
        const current = await schemaVersion(handle);
        if (current > LATEST_VERSION) throw tooNew(handle, current, "migrate");
        if (target > current)
          throw new UsageError(`version ${target} is newer: use \`redun db upgrade ${target}\``);
        const steps = await migrateTo(handle, target);
        process.stdout.write(
          steps.length
            ? `downgraded to schema version ${target}\n`
            : `already at schema version ${target}\n`,
        );
      }),
    );
  void setExitCode;
}
