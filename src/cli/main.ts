/**
 * The `redun` command line.
 */
import { Command, CommanderError } from "commander";
import { formatError } from "./error-report.ts";
import type { RunCommandOptions } from "./run.ts";
import { dbCommand } from "./db.ts";
import { federatedCommands } from "./federated-command.ts";
import { fsCommand } from "./fs.ts";
import { launchCommand } from "./launch-command.ts";
import { logCommand } from "./log.ts";
import { oneshotCommand } from "./oneshot-command.ts";
import { serverCommand } from "./server-command.ts";
import { tagCommand } from "./tag.ts";
import { transferCommands } from "./transfer-commands.ts";
import { loadCliConfig, type GlobalOptions } from "./global.ts";
import { asksForTaskHelp } from "./task-args.ts";
import { packageVersion } from "../values/package-version.ts";
import { codeUrl, COMPILED } from "../values/package-root.ts";

/**
 * Gets a command ready to run: the built-in executors registered, and, compiled, TypeScript
 * support for workflow files. The modules the command needs are imported first (natively,
 * see src/loader/enable.mjs), so `--help` and the like load none of this. Run from its
 * sources, redun is already loaded through tsx, which also serves workflow files.
 */
async function prepareCommand(program: Command, command: Command): Promise<void> {
  if (command.name() === "run" && wantsWorkers(command)) {
    const { prestartWorkers } = await import("./prestart.ts");
    await prestartWorkers(
      program.opts<GlobalOptions>(),
      command.args[0]!,
      command.opts<RunCommandOptions>().cache,
    );
  }
  await import("../executors/builtin.ts");
  if (!COMPILED) return;
  const preload = [codeUrl("index.js").href];
  if (command.name() === "run") {
    preload.push(codeUrl("cli/run.js").href);
    // What most runs load: the local executor type (a scheduler loads it as it starts) and
    // the SQLite driver. A driver that fails to load is reported when the database opens.
    await (await import("../executors/executor.ts")).loadExecutorType("local");
    try {
      (await import("../backend/database.ts")).loadSqliteDriver();
    } catch {
      // Reported by openSqlite, with the database's name.
    }
  }
  // By its URL: the loader's .mjs files stay as they are in dist/ (never bundled), so that
  // their own relative URLs (esm-hooks.mjs, the package.json) hold.
  const { enableTypeScript } = (await import(
    codeUrl("loader/enable.mjs").href
  )) as typeof import("../loader/enable.mjs");
  await enableTypeScript(preload);
}

/** Whether a `redun run` command line will run jobs (not a dry run, not a task's --help). */
function wantsWorkers(run: Command): boolean {
  return (
    run.args.length >= 2 &&
    !run.opts<RunCommandOptions>().dryrun &&
    !asksForTaskHelp(run.args.slice(2))
  );
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command("redun")
    .description(
      "Workflows as plain TypeScript: lazy expressions, a caching scheduler, provenance.",
    )
    .option(
      "-c, --config <dir>",
      "configuration directory (default: REDUN_CONFIG, or the nearest .redun/)",
    )
    .option(
      "--setup <key=value>",
      "argument for the setup_scheduler function (repeatable)",
      collect,
    )
    .version(packageVersion(), "-V, --version", "print redun's version")
    .enablePositionalOptions()
    .exitOverride()
    .showHelpAfterError()
    .hook("preAction", (program, command) => prepareCommand(program, command));

  program
    .command("run")
    .description("run a task from a workflow file")
    .argument("<file>", "workflow file (.ts, .mts, .js, .mjs)")
    .argument("<task>", "task name (full name, or short name when unambiguous)")
    .argument("[args...]", "task arguments: --name value ... (--help lists them)")
    .option("--no-cache", "replay nothing from earlier executions")
    .option("--no-prov", "record no provenance (nothing is cached beyond this run)")
    .option("--context-file <file>", "JSON file merged into the run's context")
    .option("--context <path=value>", "context value at a dotted path (repeatable)", collect)
    .option("--dryrun", "report the jobs that would run, and run nothing")
    .option("--execution-id <id>", "id for the new execution")
    .option(
      "--log-level <level>",
      "DEBUG, INFO (a line per job), WARNING or ERROR (default: [scheduler] log_level, INFO)",
    )
    .option("--tag <key=value>", "tag for the new execution (repeatable)", collect)
    .option("-o, --option <key=value>", "task option for the root call (repeatable)", collect)
    .passThroughOptions()
    .allowUnknownOption()
    .helpOption("--redun-help", "help for `redun run` itself")
    .action(async (file: string, task: string, args: string[], options: RunCommandOptions) => {
      // Loaded on use: it brings the scheduler and the TypeScript compiler.
      const { runCommand } = await import("./run.ts");
      setExitCode(await runCommand(program.opts<GlobalOptions>(), file, task, args, options));
    });

  program
    .command("init")
    .description(
      "create a .redun/ configuration directory here (if there is none above) and its database",
    )
    .action(async () => {
      const config = loadCliConfig(program.opts<GlobalOptions>());
      // Open it once, migrating its schema, so that `redun db info` finds it ready.
      const { Backend } = await import("../backend/backend.ts");
      const { backendOptionsFromConfig } = await import("../backend/from-config.ts");
      const backend = await Backend.open({
        ...backendOptionsFromConfig(config.backend),
        automigrate: true,
      });
      await backend.close();
      process.stdout.write(`${config.configDir}\n`);
    });

  dbCommand(program, setExitCode);
  logCommand(program);
  tagCommand(program);
  transferCommands(program);
  fsCommand(program);
  oneshotCommand(program, setExitCode);
  serverCommand(program);
  launchCommand(program, setExitCode);
  federatedCommands(program, setExitCode);
  return program;
}

/** Runs the command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram((code) => (exitCode = code));
  try {
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    // Standard output closed by its reader (`redun fs cat F | head`): see bin/redun.mjs.
    if ((error as NodeJS.ErrnoException | undefined)?.code === "EPIPE") return 141;
    process.stderr.write(formatError(error));
    return 1;
  }
}
