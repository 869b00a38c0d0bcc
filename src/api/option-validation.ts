/**
 * Task options are checked where they are given (`task({...})`, `.options({...})`,
 * `redun run -o key=value`): an unknown name or a value outside its range is one clear
 * error naming the option and what is valid, never silently ignored. The engine's options
 * are declared here; executor types declare theirs through the executor registry
 * ({@link registerTaskOptionChecks}), without their modules being loaded.
 */
import type { EngineTaskOptions } from "./options.ts";
import { RedunError } from "../values/errors.ts";
import { registerErrorClass } from "../values/serialize.ts";

/** Checks one option's value: returns the problem, if any. */
export type TaskOptionCheck = (value: unknown) => string | undefined;
type Check = TaskOptionCheck;

const oneOf =
  (...values: string[]): Check =>
  (value) =>
    typeof value === "string" && values.includes(value)
      ? undefined
      : `valid values: ${values.map((v) => JSON.stringify(v)).join(", ")}`;
const isString: Check = (v) => (typeof v === "string" ? undefined : "expected a string");
const isBoolean: Check = (v) => (typeof v === "boolean" ? undefined : "expected true or false");
const isCount: Check = (v) =>
  Number.isInteger(v) && (v as number) >= 0 ? undefined : "expected a whole number, 0 or more";
const isNumber: Check = (v) =>
  typeof v === "number" && Number.isFinite(v) && v >= 0
    ? undefined
    : "expected a number, 0 or more";
const isStringList: Check = (v) =>
  Array.isArray(v) && v.every((x) => typeof x === "string")
    ? undefined
    : "expected a list of strings";
const isList: Check = (v) => (Array.isArray(v) ? undefined : "expected a list");
const isStringRecord: Check = (v) =>
  v !== null &&
  typeof v === "object" &&
  !Array.isArray(v) &&
  Object.values(v as object).every((x) => typeof x === "string")
    ? undefined
    : "expected an object of strings";
const isLimits: Check = (v) =>
  isStringList(v) === undefined ||
  (v !== null &&
    typeof v === "object" &&
    !Array.isArray(v) &&
    Object.values(v as object).every((x) => Number.isInteger(x) && x >= 0))
    ? undefined
    : 'expected a list of limit names (["db"]) or an object of amounts ({ db: 2 })';
const isObject: Check = (v) =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? undefined : "expected an object";
const isRole: Check = (v) =>
  v === null || typeof v === "string" ? undefined : "expected a string or null";
const isTags: Check = (v) =>
  (Array.isArray(v) &&
    v.every((pair) => Array.isArray(pair) && pair.length === 2 && typeof pair[0] === "string")) ||
  (v !== null && typeof v === "object" && !Array.isArray(v))
    ? undefined
    : 'expected an object ({ step: "align" }) or a list of [key, value] pairs';
const isSeconds: Check = (v) =>
  typeof v === "number" && Number.isFinite(v) && v >= 0
    ? undefined
    : "expected a number of seconds, 0 or more (0: no limit)";
const isGiB: Check = (v) =>
  typeof v === "number" && Number.isFinite(v) && v >= 0
    ? undefined
    : "expected a number of GiB, 0 or more (0: no limit)";

/** Every task option and how its value is checked. */
const CHECKS = {
  name: isString,
  namespace: isString,
  version: isString,
  cache: isBoolean,
  cacheScope: oneOf("none", "cse", "backend"),
  checkValid: oneOf("full", "shallow"),
  executor: isString,
  limits: isLimits,
  retries: isCount,
  hashIncludes: isList,
  configArgs: isStringList,
  nout: isCount,
  script: isBoolean,
  prov: isBoolean,
  tags: isTags,
  timeout: isSeconds,
  maxMemory: isGiB,
} satisfies { [K in keyof Required<EngineTaskOptions>]: Check };

/**
 * The kinds of value an executor's task option may take, by name (so an executor type can
 * declare its task options as data): a string, `true`/`false`, a whole number 0 or more, a
 * number 0 or more, an object of strings, or a string or `null` (e.g. an IAM role).
 */
export const TASK_OPTION_KINDS = {
  string: isString,
  boolean: isBoolean,
  count: isCount,
  number: isNumber,
  stringRecord: isStringRecord,
  stringOrNull: isRole,
  object: isObject,
} as const satisfies Record<string, Check>;

/** A task option's kind ({@link TASK_OPTION_KINDS}) or a check of its own. */
export type TaskOptionKind = keyof typeof TASK_OPTION_KINDS | TaskOptionCheck;

/**
 * Engine options that executor types may read too, in their own way: `timeout` is the
 * local executor's limit in seconds, AWS Batch's job timeout in seconds, and AWS Glue's in
 * minutes (as in Python redun). Their declarations are accepted and the engine's check
 * applies.
 */
const SHARED_WITH_EXECUTORS = new Set(["timeout"]);

/** Checks of the executor types' task options, by option name (several types may share one). */
const EXECUTOR_CHECKS = new Map<string, Check[]>([["executorOptions", [isObject]]]);

/**
 * Declares task options of an executor type, so tasks may set them and their values are
 * checked. An option declared by several types is valid when any of their checks accepts it.
 * The executor registry calls this (see `registerExecutorType`).
 */
export function registerTaskOptionChecks(checks: Readonly<Record<string, TaskOptionKind>>): void {
  for (const [key, kind] of Object.entries(checks)) {
    if (Object.hasOwn(CHECKS, key)) {
      if (SHARED_WITH_EXECUTORS.has(key)) continue;
      throw new Error(`task option "${key}" is the engine's; an executor cannot declare it`);
    }
    const check = typeof kind === "function" ? kind : TASK_OPTION_KINDS[kind];
    if (!check) throw new Error(`task option "${key}": unknown kind ${JSON.stringify(kind)}`);
    const known = EXECUTOR_CHECKS.get(key) ?? [];
    if (!known.includes(check)) EXECUTOR_CHECKS.set(key, [...known, check]);
  }
}

/** The check of a task option (engine or executor), if it is known. */
function checkOf(key: string): Check | undefined {
  if (Object.hasOwn(CHECKS, key)) return (CHECKS as Record<string, Check>)[key];
  const checks = EXECUTOR_CHECKS.get(key);
  if (!checks) return undefined;
  if (checks.length === 1) return checks[0];
  return (value) => {
    const problems = checks.map((check) => check(value));
    return problems.includes(undefined) ? undefined : problems[0];
  };
}

/** Every known task option name: the engine's, then the executor types'. */
function knownOptions(): string[] {
  return [...Object.keys(CHECKS), ...EXECUTOR_CHECKS.keys()];
}

/** Option names that identify a task and cannot change per call. */
const IDENTITY = new Set(["name", "namespace", "version", "hashIncludes"]);

/** An invalid task option. */
export class TaskOptionError extends RedunError {
  override name = "TaskOptionError";
  override get code() {
    return "REDUN_TASK_OPTION" as const;
  }
}
registerErrorClass(TaskOptionError);

/**
 * Checks task options.
 *
 * @param options - the options as given.
 * @param where - who gave them, for the message (e.g. `task "acme.add"`).
 * @param perCall - options for one call (`.options()`, `-o`): identity options are refused.
 * @throws TaskOptionError naming the option and what is valid.
 */
export function validateTaskOptions(options: object, where: string, perCall = false): void {
  for (const [key, value] of Object.entries(options)) {
    const check = checkOf(key);
    const known = check !== undefined;
    if (!check || (perCall && IDENTITY.has(key))) {
      const hint = known
        ? "it identifies the task and can only be set in task({...})"
        : suggestion(key);
      throw new TaskOptionError(`${where}: unknown option "${key}"${hint ? ` (${hint})` : ""}`);
    }
    // Undefined leaves the option unset; an expression (getContext) is checked once evaluated.
    if (value === undefined || isLazy(value)) continue;
    const problem = check(value);
    if (problem) {
      throw new TaskOptionError(
        `${where}: invalid value ${preview(value)} for option "${key}" (${problem})`,
      );
    }
  }
}

function isLazy(value: unknown): boolean {
  return (
    value !== null && typeof value === "object" && typeof (value as any).describe === "function"
  );
}

function suggestion(key: string): string | undefined {
  const lower = key.toLowerCase().replace(/_/g, "");
  const close = knownOptions().find(
    (known) => known.toLowerCase() === lower || editDistance(known.toLowerCase(), lower) <= 2,
  );
  return close ? `did you mean "${close}"?` : `known options: ${knownOptions().join(", ")}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

function preview(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text.length > 40 ? `${text.slice(0, 37)}...` : text;
  } catch {
    // A cycle or a bigint: fall through.
  }
  return String(value);
}
