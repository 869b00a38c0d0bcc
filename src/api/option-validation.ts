/**
 * Task options are checked where they are given (`task({...})`, `.options({...})`,
 * `redun run -o key=value`): an unknown name or a value outside its range is one clear
 * error naming the option and what is valid, never silently ignored.
 */
import type { TaskOptions } from "./options.ts";

type Check = (value: unknown) => string | undefined;

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
const anything: Check = () => undefined;

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
  memory: isNumber,
  vcpus: isNumber,
  gpus: isCount,
  image: isString,
  queue: isString,
  role: isRole,
  timeout: isNumber,
  privileged: isBoolean,
  jobNamePrefix: isString,
  batchTags: isStringRecord,
  defaultBatchTags: isBoolean,
  numNodes: isCount,
  awsRegion: isString,
  jobDefName: isString,
  autocreateJobDef: isBoolean,
  batchRetries: isCount,
  shareId: isString,
  schedulingPriorityOverride: isCount,
  workers: isCount,
  workerType: isString,
  serviceAccountName: isString,
  annotations: isStringRecord,
  k8sLabels: isStringRecord,
  interactive: isBoolean,
  executorOptions: isObject,
} satisfies { [K in keyof Required<TaskOptions>]: Check };

/** Option names that identify a task and cannot change per call. */
const IDENTITY = new Set(["name", "namespace", "version", "hashIncludes"]);

/** An invalid task option. */
export class TaskOptionError extends TypeError {
  override name = "TaskOptionError";
}

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
    const known = Object.prototype.hasOwnProperty.call(CHECKS, key);
    const check = (CHECKS as Record<string, Check>)[key]!;
    if (!known || (perCall && IDENTITY.has(key))) {
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
  const close = Object.keys(CHECKS).find(
    (known) => known.toLowerCase() === lower || editDistance(known.toLowerCase(), lower) <= 2,
  );
  return close ? `did you mean "${close}"?` : `known options: ${Object.keys(CHECKS).join(", ")}`;
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
