/**
 * Running commands for script tasks: a shell script with `bash -euo pipefail` (or the
 * command's own `#!` interpreter), or an argv array with no shell at all, from a private job
 * directory that holds the command file and its output logs, so output of any size goes to
 * disk, not memory.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { registerErrorClass } from "../values/serialize.ts";
import { RedunError } from "../values/errors.ts";

/** Lines of stdout/stderr kept in a {@link ScriptError}. */
const TAIL_LINES = 20;
/** Bytes read from the end of a log to find its tail. */
const TAIL_BYTES = 16 * 1024;

/**
 * A script that failed: it exited with a non-zero code, was killed, or could not start (an
 * argv program that does not exist). The message starts with what happened and the last
 * line of stderr; the command (an argv array in full, shell-quoted) and the tails of stderr
 * and stdout follow.
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

  constructor(details: {
    exitCode: number | null;
    signal?: string | null;
    stderrTail: string;
    stdoutTail: string;
    command: string;
    argv?: readonly string[] | null;
    /** Why the command could not start at all. */
    startError?: string;
  }) {
    const how = details.startError
      ? `could not start (${details.startError})`
      : details.exitCode === null
        ? `was killed by ${details.signal ?? "a signal"}`
        : `exited with code ${details.exitCode}`;
    const lastLine = details.stderrTail.trimEnd().split("\n").pop()?.trim();
    const firstLine = details.command.split("\n").find((l) => l.trim() && !l.startsWith("#!"));
    // An argv array is one line the user wrote as words: shown whole.
    const shown = details.argv
      ? details.command
      : firstLine && firstLine.length > 100
        ? firstLine.slice(0, 97) + "..."
        : firstLine;
    const sections = [
      `script ${how}${lastLine ? `: ${lastLine}` : ""}`,
      `  command: ${shown ?? "(empty)"}`,
    ];
    if (details.stderrTail.trim()) sections.push(indent("stderr", details.stderrTail));
    if (details.stdoutTail.trim()) sections.push(indent("stdout", details.stdoutTail));
    super(sections.join("\n"));
    this.exitCode = details.exitCode;
    this.signal = details.signal ?? null;
    this.stderrTail = details.stderrTail;
    this.stdoutTail = details.stdoutTail;
    this.command = details.command;
    this.argv = details.argv ? [...details.argv] : null;
  }
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
 * Runs a command and returns its standard output.
 *
 * A string is a shell script: dedented and written to a file in a fresh job directory;
 * without a `#!` line it runs with `bash -euo pipefail` (any failing command, unset variable
 * or failing pipe stage fails the script), with one it runs with that interpreter. An array
 * is an argv: the program (found on `PATH`) runs with those arguments and no shell, so
 * nothing needs quoting. Standard output and error go to files in the job directory, which
 * is removed afterwards.
 *
 * @throws ScriptError when the command exits with a non-zero code, is killed, or (an argv
 *   program) cannot start.
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
  const jobDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "redun-job-"));
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
        const child = spawn(program, args, {
          cwd: options.cwd,
          env: options.env ?? process.env,
          stdio: ["ignore", out.fd, err.fd],
        });
        child.once("error", reject);
        child.once("close", (code, signal) => resolve({ code, signal }));
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
    if (result.code !== 0) {
      throw new ScriptError({
        exitCode: result.code,
        signal: result.signal,
        stderrTail: await tail(stderrFile),
        stdoutTail: await tail(stdoutFile),
        command: text,
        argv,
      });
    }
    const stdout =
      options.captureStdout === false ? "" : await fs.promises.readFile(stdoutFile, "utf8");
    return { stdout };
  } finally {
    await fs.promises.rm(jobDir, { recursive: true, force: true });
  }
}
