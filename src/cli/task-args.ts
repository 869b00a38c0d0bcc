/**
 * Task arguments from the command line: `redun run FILE TASK --x 1 --names a --names b`.
 *
 * The words after the task name are matched to the task's parameters (read from its source by
 * `readTaskSignature`) and converted by each parameter's type. When the signature says
 * nothing about a parameter (a plain JS file, `unknown`, or `untypedParams` because the
 * function was not found), its value is read as JSON when it parses and as the raw string
 * otherwise: `--n 3` gives `3`, `--s abc` gives `"abc"`, `--o '{"a":1}'` gives an object.
 */
import { describeType, type ParamInfo, type ParamType } from "./signature.ts";
import { describeShape, shapeProblem, showValue } from "./arg-shapes.ts";
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";

/** A problem with the task arguments given on the command line; its message is one line. */
export class TaskArgsError extends RedunError {
  override name = "TaskArgsError";
  override get code() {
    return "REDUN_TASK_ARGS" as const;
  }

  /**
   * @param message - one line, naming the argument concerned.
   * @param argument - the parameter concerned, when there is one.
   */
  constructor(
    message: string,
    readonly argument?: string,
  ) {
    super(message);
  }
}
registerErrorClass(TaskArgsError);

/** Builds the File and Dir values for `file` / `dir` parameters. */
export interface ArgFactories {
  file(path: string): unknown;
  dir(path: string): unknown;
}

const TRUE_WORDS = new Set(["true", "1", "yes"]);
const FALSE_WORDS = new Set(["false", "0", "no"]);

/**
 * Converts command-line words into the positional arguments to call a task with.
 *
 * - `--name value` and `--name=value`; `--max-depth`, `--max_depth` and `--maxDepth` all
 *   reach a parameter named `maxDepth` or `max_depth` (an exact name always wins).
 * - booleans: `--flag`, `--flag true|false|1|0|yes|no`, `--no-flag`.
 * - arrays and rest parameters: repeat the option (`--xs 1 --xs 2`) or give one JSON array
 *   (`--xs '[1,2]'`); rest values are spread after the other arguments.
 * - `unknown` parameters: JSON when the value parses, else the raw string.
 *
 * Optional parameters that are not given stay `undefined`; the scheduler then binds their
 * defaults into the call (src/scheduler/default-args.ts), so `redun run f.ts main` and
 * `main()` from code are one cache entry. Trailing `undefined`s are dropped so that
 * `arguments.length` looks like a normal call.
 *
 * @param taskName - used in error messages.
 * @param params - the task's parameters, from `readTaskSignature` or `untypedParams`.
 * @param argv - the words after the task name.
 * @param factories - make `File` / `Dir` values from paths.
 * @throws TaskArgsError for an unknown argument, a missing required one, a bad value, a
 *   missing value, or a value given twice for a parameter that is not an array.
 */
export function parseTaskArgs(
  taskName: string,
  params: ParamInfo[],
  argv: string[],
  factories: ArgFactories,
): unknown[] {
  const raw = new Map<ParamInfo, string[]>();
  const add = (param: ParamInfo, value: string): void => {
    const values = raw.get(param) ?? [];
    if (values.length > 0 && param.type.kind !== "array") {
      throw new TaskArgsError(
        `argument --${param.name} of task ${taskName} was given more than once`,
        param.name,
      );
    }
    values.push(value);
    raw.set(param, values);
  };

  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith("--") || word === "--") {
      throw new TaskArgsError(
        `unexpected argument "${word}" for task ${taskName}: give arguments as --name value`,
      );
    }
    const eq = word.indexOf("=");
    const key = eq >= 0 ? word.slice(2, eq) : word.slice(2);
    const inline = eq >= 0 ? word.slice(eq + 1) : undefined;

    let param = findParam(taskName, params, key);
    if (!param && key.startsWith("no-")) {
      const negated = findParam(taskName, params, key.slice(3));
      if (negated?.type.kind === "boolean") {
        if (inline !== undefined) {
          throw new TaskArgsError(
            `argument --${key} of task ${taskName} takes no value (got "${inline}")`,
            negated.name,
          );
        }
        add(negated, "false");
        continue;
      }
    }
    if (!param) throw unknownArgument(taskName, params, word);

    if (inline !== undefined) {
      add(param, inline);
    } else if (param.type.kind === "boolean") {
      // A bare flag means true; the next word is its value only if it reads as a boolean.
      const next = argv[i + 1];
      if (next !== undefined && isBooleanWord(next)) {
        add(param, next);
        i++;
      } else {
        add(param, "true");
      }
    } else {
      const next = argv[i + 1];
      // A following option means the value was forgotten; `--name=--x` passes such a value.
      if (next === undefined || (next.startsWith("--") && next.length > 2)) {
        throw new TaskArgsError(
          `missing value for argument --${param.name} of task ${taskName} ` +
            `(expected ${metavar(param.type)})`,
          param.name,
        );
      }
      add(param, next);
      i++;
    }
  }

  const args: unknown[] = [];
  const restValues: unknown[] = [];
  const missing: ParamInfo[] = [];
  for (const param of params) {
    const values = raw.get(param);
    if (param.rest) {
      if (values)
        restValues.push(...(convertArray(taskName, param, values, factories) as unknown[]));
      continue;
    }
    if (!values) {
      if (!param.optional) missing.push(param);
      args.push(undefined);
      continue;
    }
    args.push(
      param.type.kind === "array"
        ? convertArray(taskName, param, values, factories)
        : convertWord(taskName, param, param.type, values[0]!, factories),
    );
  }
  if (missing.length > 0) {
    const list = missing.map((p) => `--${p.name} (${typeLabel(p)})`).join(", ");
    throw new TaskArgsError(
      `missing required argument${missing.length > 1 ? "s" : ""} ${list} for task ${taskName}`,
      missing[0]!.name,
    );
  }
  if (restValues.length > 0) {
    args.push(...restValues);
  } else {
    while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
  }
  return args;
}

/** Whether a task's command-line arguments ask for its help instead of a run. */
export function asksForTaskHelp(taskArgv: readonly string[]): boolean {
  return taskArgv.includes("--help") || taskArgv.includes("-h");
}

/**
 * Help text for a task: a usage line, then one line per parameter with its type and default.
 *
 * @param file - the workflow file as the user named it (`FILE` when not known).
 * @example
 * Usage: redun run workflow.ts acme.main --x NUMBER [--y NUMBER] [--names STRING...]
 */
export function formatTaskHelp(
  taskFullname: string,
  params: ParamInfo[],
  description?: string,
  file = "FILE",
): string {
  const usage = params.map((p) => {
    const option = p.type.kind === "boolean" ? `--${p.name}` : `--${p.name} ${metavar(p.type)}`;
    return p.optional ? `[${option}]` : option;
  });
  const shownFile = /^[\w@%+=:,./-]+$/.test(file) ? file : `'${file.replace(/'/g, "'\\''")}'`;
  const lines = [["Usage: redun run", shownFile, taskFullname, ...usage].join(" ")];
  if (description?.trim()) lines.push("", description.trim());
  if (params.length > 0) {
    lines.push("", "Arguments:");
    const heads = params.map((p) =>
      p.type.kind === "boolean" ? `--${p.name} / --no-${p.name}` : `--${p.name} ${metavar(p.type)}`,
    );
    const width = Math.max(...heads.map((h) => h.length));
    params.forEach((p, i) => {
      const notes: string[] = [typeLabel(p)];
      if (p.defaultText !== undefined) notes.push(`default: ${oneLine(p.defaultText)}`);
      else if (p.rest) notes.push("repeatable");
      else if (!p.optional) notes.push("required");
      else notes.push("optional");
      lines.push(`  ${heads[i]!.padEnd(width)}  ${notes.join(", ")}`);
    });
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------

function isBooleanWord(word: string): boolean {
  const w = word.toLowerCase();
  return TRUE_WORDS.has(w) || FALSE_WORDS.has(w);
}

/** kebab-case with `_` as `-`: `maxDepth`, `max_depth` and `max-depth` all give `max-depth`. */
function normalize(name: string): string {
  return name
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1-$2")
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .replace(/_/g, "-")
    .toLowerCase();
}

function findParam(taskName: string, params: ParamInfo[], key: string): ParamInfo | undefined {
  const exact = params.find((p) => p.name === key);
  if (exact) return exact;
  const wanted = normalize(key);
  const matches = params.filter((p) => normalize(p.name) === wanted);
  if (matches.length > 1) {
    throw new TaskArgsError(
      `argument --${key} of task ${taskName} is ambiguous: it could be ` +
        matches.map((p) => `--${p.name}`).join(" or "),
      key,
    );
  }
  return matches[0];
}

function unknownArgument(taskName: string, params: ParamInfo[], word: string): TaskArgsError {
  const valid =
    params.length > 0
      ? `valid arguments: ${params.map((p) => `--${p.name}`).join(", ")}`
      : "it takes no arguments";
  return new TaskArgsError(`unknown argument ${word} for task ${taskName} (${valid})`, word);
}

function typeLabel(p: ParamInfo): string {
  return p.typeText !== undefined ? oneLine(p.typeText) : describeType(p.type);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** The placeholder for a value in usage text. */
function metavar(type: ParamType): string {
  switch (type.kind) {
    case "array":
      return `${metavar(type.element)}...`;
    case "choice":
      return `{${type.values.map(String).join(",")}}`;
    case "unknown":
      return "VALUE";
    default:
      return type.kind.toUpperCase();
  }
}

function badValue(
  taskName: string,
  param: ParamInfo,
  value: unknown,
  expected: string,
  detail?: string,
): TaskArgsError {
  const shown =
    typeof value === "string"
      ? JSON.stringify(value)
      : oneLine(JSON.stringify(value) ?? String(value));
  return new TaskArgsError(
    `invalid value ${shown} for argument --${param.name} of task ${taskName}: ` +
      `expected ${expected}${detail ? ` (${oneLine(detail)})` : ""}`,
    param.name,
  );
}

function expectedText(type: ParamType): string {
  switch (type.kind) {
    case "number":
      return "a number";
    case "bigint":
      return "an integer (bigint)";
    case "boolean":
      return "a boolean (true/false/1/0/yes/no)";
    case "file":
      return "a file path";
    case "dir":
      return "a directory path";
    case "json":
      return type.shape ? `JSON of type ${describeShape(type.shape)}` : "JSON";
    case "choice":
      return `one of ${type.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "array":
      return `a JSON array or repeated values of ${describeType(type.element)}`;
    default:
      return describeType(type);
  }
}

/** A decimal number: `3`, `-2.5`, `.5`, `1e3` (not `0x10`, `Infinity` or `NaN`). */
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
const FINITE = "a finite decimal number such as 3, -2.5 or 1e3";

/** Converts one command-line word for a (non-array, or element) type. */
function convertWord(
  taskName: string,
  param: ParamInfo,
  type: ParamType,
  word: string,
  factories: ArgFactories,
): unknown {
  const fail = (detail?: string): TaskArgsError =>
    badValue(taskName, param, word, expectedText(type), detail);
  switch (type.kind) {
    case "string":
      return word;
    case "number": {
      // Number() also takes "", " 1 ", "0x10", "Infinity" and "1e400" (Infinity): only
      // finite decimal numbers are accepted.
      const n = Number(word);
      if (!DECIMAL.test(word) || !Number.isFinite(n)) {
        // Say why a word that JavaScript reads as a number is refused.
        throw fail(Number.isNaN(n) && word !== "NaN" ? undefined : FINITE);
      }
      return n;
    }
    case "bigint": {
      const text = word.endsWith("n") ? word.slice(0, -1) : word;
      if (!/^[-+]?(\d+|0x[0-9a-f]+|0o[0-7]+|0b[01]+)$/i.test(text)) throw fail();
      return text.startsWith("-") ? -BigInt(text.slice(1)) : BigInt(text.replace(/^\+/, ""));
    }
    case "boolean": {
      const w = word.toLowerCase();
      if (TRUE_WORDS.has(w)) return true;
      if (FALSE_WORDS.has(w)) return false;
      throw fail();
    }
    case "choice": {
      const match = type.values.find((v) => String(v) === word);
      if (match === undefined) throw fail();
      return match;
    }
    case "file":
    case "dir":
      if (word === "") throw fail();
      return type.kind === "file" ? factories.file(word) : factories.dir(word);
    case "json": {
      let parsed: unknown;
      try {
        parsed = JSON.parse(word);
      } catch (err) {
        throw fail((err as Error).message);
      }
      return checkShape(taskName, param, type, parsed);
    }
    case "array": {
      // An array inside an array (an element of `number[][]`): one JSON array per word.
      const parsed = parseJson(word);
      if (!Array.isArray(parsed)) throw fail();
      return parsed.map((v) => convertJson(taskName, param, type.element, v, factories));
    }
    case "unknown": {
      const parsed = parseJson(word);
      return parsed === NOT_JSON ? word : parsed;
    }
  }
}

/**
 * A parsed JSON value, checked against the shape its parameter's annotation promises: one
 * line naming the task, the argument, the place in the value and what was expected there.
 */
function checkShape(
  taskName: string,
  param: ParamInfo,
  type: Extract<ParamType, { kind: "json" }>,
  value: unknown,
): unknown {
  const problem = type.shape && shapeProblem(value, type.shape);
  if (problem !== undefined) {
    throw new TaskArgsError(
      `invalid value ${showValue(value)} for argument --${param.name} of task ${taskName}: ` +
        `expected ${describeShape(type.shape!)}${problem ? ` (${oneLine(problem)})` : ""}`,
      param.name,
    );
  }
  return value;
}

const NOT_JSON = Symbol("not JSON");

function parseJson(word: string): unknown {
  try {
    return JSON.parse(word);
  } catch {
    return NOT_JSON;
  }
}

/** Values of an array or rest parameter: repeated words, or one JSON array. */
function convertArray(
  taskName: string,
  param: ParamInfo,
  words: string[],
  factories: ArgFactories,
): unknown[] {
  const element = param.type.kind === "array" ? param.type.element : param.type;
  if (words.length === 1 && words[0]!.trimStart().startsWith("[")) {
    const parsed = parseJson(words[0]!);
    if (Array.isArray(parsed)) {
      return parsed.map((v) => convertJson(taskName, param, element, v, factories));
    }
    // `["a"` is not JSON: for string elements it is a legitimate value, for others an error.
    if (
      element.kind !== "string" &&
      element.kind !== "unknown" &&
      element.kind !== "file" &&
      element.kind !== "dir"
    ) {
      throw badValue(taskName, param, words[0], expectedText(param.type));
    }
  }
  return words.map((w) => convertWord(taskName, param, element, w, factories));
}

/** Checks or converts an element that arrived inside a JSON array. */
function convertJson(
  taskName: string,
  param: ParamInfo,
  type: ParamType,
  value: unknown,
  factories: ArgFactories,
): unknown {
  // Strings go through the word rules, so `["1", "2"]` works for numbers too.
  if (typeof value === "string" && type.kind !== "json" && type.kind !== "unknown") {
    return convertWord(taskName, param, type, value, factories);
  }
  const fail = (): TaskArgsError => badValue(taskName, param, value, expectedText(type));
  switch (type.kind) {
    case "number":
      // JSON's 1e400 parses to Infinity.
      if (typeof value !== "number" || !Number.isFinite(value)) throw fail();
      return value;
    case "bigint":
      if (typeof value !== "number" || !Number.isInteger(value)) throw fail();
      return BigInt(value);
    case "boolean":
      if (typeof value !== "boolean") throw fail();
      return value;
    case "choice":
      if (!type.values.includes(value as string | number | boolean)) throw fail();
      return value;
    case "array":
      if (!Array.isArray(value)) throw fail();
      return value.map((v) => convertJson(taskName, param, type.element, v, factories));
    case "json":
      return checkShape(taskName, param, type, value);
    case "unknown":
      return value;
    default:
      // string, file, dir: only strings are accepted, and those were handled above.
      throw fail();
  }
}
