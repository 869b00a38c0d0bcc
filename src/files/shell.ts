/**
 * Running commands for script tasks: a shell script with `bash -euo pipefail` (or the
 * command's own `#!` interpreter), or an argv array with no shell at all, from a private job
 * directory that holds the command file and its output logs, so output of any size goes to
 * disk, not memory. A command runs in a process group of its own, which is killed when the
 * job's signal fires (an inline task's `timeout`) or when the thread or process that started
 * it goes away (a worker stopped at its `timeout`), so no command outlives its job.
 */
import type { ChildProcess } from "node:child_process";
import { childProcess } from "../values/lazy-builtins.ts";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { currentSignal } from "../api/task-signal.ts";
import { registerErrorClass } from "../values/serialize.ts";
import { RedunError } from "../values/errors.ts";

/** Lines of stdout/stderr kept in a {@link ScriptError}. */
const TAIL_LINES = 20;
/** Bytes read from the end of a log to find its tail. */
const TAIL_BYTES = 16 * 1024;
/** Lines of a shell command shown in a {@link ScriptError} (the whole file is kept). */
const COMMAND_LINES = 60;
/** How long a stopped command has after SIGTERM before its group gets SIGKILL. */
const KILL_GRACE_MS = 2_000;

/**
 * A script that failed: it exited with a non-zero code, was killed, or could not start (an
 * argv program that does not exist). The message starts with what happened and the last
 * line of stderr; the whole command (an argv array shell-quoted, a shell script line by
 * line), the tails of stderr and stdout, and the job directory kept with the script and its
 * full logs follow.
 */
export class ScriptError extends RedunError {
  override name = "ScriptError";
  override get code() {
    return "REDUN_SCRIPT" as const;
  }
  /** The exit code, or `null` when a signal killed the script. */
  exitCode: number | null;
  /** The signal that killed the script, if any. */
  signal: string | null;
  /** The last lines of standard error. */
  stderrTail: string;
  /** The last lines of standard output. */
  stdoutTail: string;
  /** The command (as run, after dedenting; an argv array shell-quoted). */
  command: string;
  /** The argv array, for a command run without a shell. */
  argv: string[] | null;
  /**
   * The job directory, kept after the failure: the script file (`script.sh`, or `script`
   * with a `#!` line) and the whole `stdout` and `stderr`. `null` when nothing was kept.
   */
  jobDir: string | null;

  constructor(details: {
    exitCode: number | null;
    signal?: string | null;
    stderrTail: string;
    stdoutTail: string;
    command: string;
    argv?: readonly string[] | null;
    /** Why the command could not start at all. */
    startError?: string;
    /** Where the script and its logs were kept. */
    jobDir?: string | null;
  }) {
    const how = details.startError
      ? `could not start (${details.startError})`
      : details.exitCode === null
        ? `was killed by ${details.signal ?? "a signal"}`
        : `exited with code ${details.exitCode}`;
    const lastLine = details.stderrTail.trimEnd().split("\n").pop()?.trim();
    const sections = [
      `script ${how}${lastLine ? `: ${lastLine}` : ""}`,
      showCommand(details.command, details.argv ? undefined : details.jobDir),
    ];
    if (details.stderrTail.trim()) sections.push(indent("stderr", details.stderrTail));
    if (details.stdoutTail.trim()) sections.push(indent("stdout", details.stdoutTail));
    if (details.jobDir) {
      const script = details.argv ? "" : "the script, ";
      sections.push(`  kept: ${details.jobDir} (${script}stdout and stderr)`);
    }
    super(sections.join("\n"));
    this.exitCode = details.exitCode;
    this.signal = details.signal ?? null;
    this.stderrTail = details.stderrTail;
    this.stdoutTail = details.stdoutTail;
    this.command = details.command;
    this.argv = details.argv ? [...details.argv] : null;
    this.jobDir = details.jobDir ?? null;
  }
}

/**
 * The command as a message shows it: an argv array (one line the user wrote as words) or a
 * one-line script after `command: `; a longer script below it, line by line, up to
 * {@link COMMAND_LINES} lines (the rest is in the kept script file).
 */
function showCommand(command: string, jobDir: string | null | undefined): string {
  const lines = command.split("\n");
  if (!command.trim()) return "  command: (empty)";
  if (lines.length === 1) return `  command: ${command}`;
  const shown = lines.slice(0, COMMAND_LINES).map((l) => `    ${l}`.trimEnd());
  if (lines.length > COMMAND_LINES) {
    const where = jobDir ? ` (all of it in the script kept in ${jobDir})` : "";
    shown.push(`    … ${lines.length - COMMAND_LINES} more lines${where}`);
  }
  return `  command:\n${shown.join("\n")}`;
}

/** A word as a POSIX shell would need it written (for messages; nothing is run through a shell). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

registerErrorClass(ScriptError);

function indent(label: string, text: string): string {
  const lines = text.trimEnd().split("\n");
  return `  ${label} (last ${lines.length} line${lines.length === 1 ? "" : "s"}):\n${lines
    .map((l) => `    ${l}`)
    .join("\n")}`;
}

/**
 * Removes the indentation common to every non-blank line and the blank lines around, so
 * commands can be written as indented template literals.
 */
export function dedent(text: string): string {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  while (lines.length && !lines[0]!.trim()) lines.shift();
  while (lines.length && !lines[lines.length - 1]!.trim()) lines.pop();
  const margins = lines.filter((l) => l.trim()).map((l) => /^[ \t]*/.exec(l)![0].length);
  const margin = margins.length ? Math.min(...margins) : 0;
  return lines.map((l) => l.slice(margin)).join("\n");
}

/** The last lines of a (possibly large) file. */
async function tail(file: string): Promise<string> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, "r");
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString("utf8").trimEnd().split("\n");
    if (size > length) lines.shift(); // probably cut in the middle
    return lines.slice(-TAIL_LINES).join("\n");
  } catch {
    return "";
  } finally {
    await handle?.close();
  }
}

/** Options of {@link runScript}. */
export interface RunScriptOptions {
  /** Working directory of the command (default: the process's). */
  cwd?: string;
  /** Environment (default: the process's). */
  env?: NodeJS.ProcessEnv;
  /** Read and return standard output (default true). */
  captureStdout?: boolean;
  /**
   * Stops the command (its whole process group: SIGTERM, then SIGKILL) when it fires.
   * Default: the running task's signal ({@link currentSignal}), which fires at an inline
   * task's `timeout`.
   */
  signal?: AbortSignal;
}

/** Checks an argv array: at least a program, and only strings. */
function checkArgv(argv: readonly unknown[]): string[] {
  if (argv.length === 0) throw new TypeError("script(): an argv array needs at least a program");
  argv.forEach((word, i) => {
    if (typeof word !== "string") {
      throw new TypeError(
        `script(): argv[${i}] must be a string, not ${word === null ? "null" : typeof word}`,
      );
    }
  });
  return argv as string[];
}

/**
 * Kills a command's process group when the thread or process that started it goes away
 * without stopping it (a worker thread terminated, a worker process killed at its
 * `timeout`): a `sh` that reads one line from a pipe this thread holds. The line comes when
 * the command has ended ({@link Guard.release}); the end of the pipe without one means its
 * starter is gone, and the group is killed. It ignores SIGINT, SIGTERM and SIGHUP, so that
 * a Ctrl-C (which reaches the whole foreground group) or a signal to redun's group does not
 * take it away before the command it guards.
 */
interface Guard {
  release(): void;
}

const GUARD_SCRIPT = `trap '' INT TERM HUP; if read -r line; then exit 0; fi; kill -s KILL -- "-$1" 2>/dev/null; exit 0`;

function guard(pgid: number): Guard {
  let watcher: ChildProcess | undefined;
  try {
    watcher = childProcess().spawn("sh", ["-c", GUARD_SCRIPT, "redun-script-guard", String(pgid)], {
      stdio: ["pipe", "ignore", "ignore"],
    });
    watcher.once("error", () => {}); // no sh: the command is merely unguarded
    watcher.stdin!.on("error", () => {});
    // Neither the watcher nor its pipe keeps this thread's event loop alive.
    watcher.unref();
    (watcher.stdin as unknown as { unref?: () => void }).unref?.();
  } catch {
    watcher = undefined;
  }
  return {
    release: () => {
      if (watcher?.stdin?.writable) watcher.stdin.end("done\n");
    },
  };
}

/** Signals a process group, ignoring one that is gone already. */
function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Runs a command and returns its standard output.
 *
 * A string is a shell script: dedented and written to a file in a fresh job directory;
 * without a `#!` line it runs with `bash -euo pipefail` (any failing command, unset variable
 * or failing pipe stage fails the script), with one it runs with that interpreter. An array
 * is an argv: the program (found on `PATH`) runs with those arguments and no shell, so
 * nothing needs quoting. Standard output and error go to files in the job directory, which
 * is removed afterwards, or kept (and named in the error) when the command fails.
 *
 * The command runs in a process group of its own: when `options.signal` fires, or the
 * thread or process that started it ends first, the whole group is killed.
 *
 * @throws ScriptError when the command exits with a non-zero code, is killed, or (an argv
 *   program) cannot start; the signal's reason when it was stopped by its signal.
 */
export async function runScript(
  command: string | readonly string[],
  options: RunScriptOptions = {},
): Promise<{ stdout: string }> {
  if (typeof command !== "string" && !Array.isArray(command)) {
    throw new TypeError(
      `script(): the command must be a string or an argv array, not ${typeof command}`,
    );
  }
  const argv = typeof command === "string" ? null : checkArgv(command);
  const text = argv ? argv.map(shellQuote).join(" ") : dedent(command as string);
  const signal = options.signal ?? currentSignal();
  signal.throwIfAborted();
  const jobDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "redun-job-"));
  let keep = false;
  try {
    const interpreted = text.startsWith("#!");
    const scriptFile = path.join(jobDir, interpreted ? "script" : "script.sh");
    if (!argv) await fs.promises.writeFile(scriptFile, text + "\n", { mode: 0o755 });
    const stdoutFile = path.join(jobDir, "stdout");
    const stderrFile = path.join(jobDir, "stderr");
    const out = await fs.promises.open(stdoutFile, "w");
    const err = await fs.promises.open(stderrFile, "w");
    let result: { code: number | null; signal: NodeJS.Signals | null };
    const [program, args] = argv
      ? [argv[0]!, argv.slice(1)]
      : interpreted
        ? [scriptFile, []]
        : ["bash", ["-euo", "pipefail", scriptFile]];
    try {
      result = await new Promise((resolve, reject) => {
        // detached: a new session and process group (id = the child's pid), so that the
        // command and everything it starts can be stopped together.
        const child = childProcess().spawn(program, args, {
          cwd: options.cwd,
          env: options.env ?? process.env,
          stdio: ["ignore", out.fd, err.fd],
          detached: true,
        });
        const pid = child.pid;
        const watch = pid === undefined ? undefined : guard(pid);
        let killer: NodeJS.Timeout | undefined;
        const stop = () => {
          if (pid === undefined) return;
          killGroup(pid, "SIGTERM");
          killer = setTimeout(() => killGroup(pid, "SIGKILL"), KILL_GRACE_MS);
          killer.unref();
        };
        signal.addEventListener("abort", stop, { once: true });
        const settle = () => {
          signal.removeEventListener("abort", stop);
          clearTimeout(killer);
          watch?.release();
        };
        child.once("error", (error) => {
          settle();
          reject(error);
        });
        child.once("close", (code, sig) => {
          settle();
          resolve({ code, signal: sig });
        });
      });
    } catch (error) {
      if (!argv) throw error;
      // The program is missing or not executable: the user's command, not an engine fault.
      throw new ScriptError({
        exitCode: null,
        stderrTail: "",
        stdoutTail: "",
        command: text,
        argv,
        startError: (error as Error).message,
      });
    } finally {
      await out.close();
      await err.close();
    }
    signal.throwIfAborted();
    if (result.code !== 0) {
      keep = true;
      throw new ScriptError({
        exitCode: result.code,
        signal: result.signal,
        stderrTail: await tail(stderrFile),
        stdoutTail: await tail(stdoutFile),
        command: text,
        argv,
        jobDir,
      });
    }
    const stdout =
      options.captureStdout === false ? "" : await fs.promises.readFile(stdoutFile, "utf8");
    return { stdout };
  } finally {
    if (!keep) await fs.promises.rm(jobDir, { recursive: true, force: true });
  }
}
