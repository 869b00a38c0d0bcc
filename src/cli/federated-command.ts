/**
 * `redun federated-tasks` (also `redun fed list`): the federated entry points of the
 * configuration (and of those imported by `federated_configs`), with their descriptions and
 * signatures; and `redun fed run ENTRYPOINT [--name value]... [VALUE]...`, which calls one
 * (the equivalent of Python redun's `redun run --federated ENTRYPOINT`).
 */
import type { Command } from "commander";
import type { FederatedTaskConfig } from "../config/config.ts";
import { UsageError } from "./error-report.ts";
import { loadCliConfig, type GlobalOptions } from "./global.ts";

/** The listing of `redun fed list`. */
export function formatFederatedTasks(tasks: Record<string, FederatedTaskConfig>): string {
  const names = Object.keys(tasks).sort();
  if (names.length === 0)
    return "No federated tasks ([federated_tasks.NAME] sections) are configured.\n";
  const out: string[] = [];
  for (const name of names) {
    const t = tasks[name]!;
    out.push(`${name}: ${t.namespace}.${t.taskName}(${t.taskSignature ?? ""})`);
    if (t.description) out.push(`    ${t.description}`);
    out.push(`    executor ${t.executor}, load_module ${t.loadModule}, config_dir ${t.configDir}`);
    out.push(`    (from ${t.source})`);
  }
  return out.join("\n") + "\n";
}

/**
 * Parameter names from a `task_signature` (`x: number, y = 2`, or with a function name and
 * parentheses): arguments are then given as `--x 1 --y 2`.
 */
export function signatureNames(signature: string | undefined): string[] {
  if (!signature) return [];
  const inner = /\(([^)]*)\)/.exec(signature)?.[1] ?? signature;
  return inner
    .split(",")
    .map((p) => p.trim().replace(/^\.\.\./, ""))
    .filter(Boolean)
    .map((p) => /^[A-Za-z_$][\w$]*/.exec(p)?.[0] ?? p);
}

/** A command-line word read as JSON when it parses, else as the string itself. */
function jsonOrString(word: string): unknown {
  try {
    return JSON.parse(word);
  } catch {
    return word;
  }
}

/** Positional arguments of a federated call from `--name value` words and plain values. */
export function federatedArgs(entry: FederatedTaskConfig, argv: string[]): unknown[] {
  const names = signatureNames(entry.taskSignature);
  const named = new Map<string, unknown>();
  const positional: unknown[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (word.startsWith("--")) {
      const eq = word.indexOf("=");
      const name = word.slice(2, eq > 0 ? eq : undefined);
      if (!names.includes(name)) {
        throw new UsageError(
          names.length
            ? `unknown argument --${name} for ${entry.namespace}.${entry.taskName} (parameters: ${names.join(", ")})`
            : `--${name}: the federated task has no task_signature, so give its arguments as positional values`,
        );
      }
      const value = eq > 0 ? word.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      named.set(name, jsonOrString(value));
    } else {
      positional.push(jsonOrString(word));
    }
  }
  if (named.size === 0) return positional;
  const args = [...positional];
  names.forEach((name, i) => {
    if (named.has(name)) args[i] = named.get(name);
  });
  return args;
}

/** Adds `redun federated-tasks` and `redun fed list|run`. */
export function federatedCommands(program: Command, setExitCode: (code: number) => void): void {
  const list = () => {
    const config = loadCliConfig(program.opts<GlobalOptions>());
    process.stdout.write(formatFederatedTasks(config.federatedTasks));
  };
  program
    .command("federated-tasks")
    .description("list the federated tasks of the configuration")
    .action(list);
  const fed = program.command("fed").description("federated tasks: list, run");
  fed.command("list").description("list the federated tasks of the configuration").action(list);
  fed
    .command("run")
    .description("call a federated task (as `redun run --federated ENTRYPOINT` in Python redun)")
    .argument("<entrypoint>", "the federated task's name ([federated_tasks.NAME])")
    .argument("[args...]", "arguments: --name value (with task_signature) or positional values")
    .option("--no-cache", "replay nothing from earlier executions")
    .passThroughOptions()
    .allowUnknownOption()
    .action(async (entrypoint: string, argv: string[], options: { cache: boolean }) => {
      const global = program.opts<GlobalOptions>();
      const config = loadCliConfig(global);
      const { federatedEntry, federatedTask, FederatedTaskError } =
        await import("../scheduler/federated.ts");
      let entry: FederatedTaskConfig;
      try {
        entry = federatedEntry(config, entrypoint);
      } catch (error) {
        if (error instanceof FederatedTaskError) throw new UsageError(error.message);
        throw error;
      }
      const args = federatedArgs(entry, argv);
      const { createScheduler } = await import("./setup.ts");
      const { formatResult } = await import("./run.ts");
      process.stderr.write(`[redun] Config dir: ${config.configDir}\n`);
      const scheduler = await createScheduler(config, global);
      try {
        const result = await scheduler.run(federatedTask(entrypoint, ...args), {
          cache: options.cache,
          description: process.argv.slice(2),
        });
        process.stdout.write(formatResult(result) + "\n");
        setExitCode(0);
      } finally {
        await scheduler.close();
      }
    });
}
