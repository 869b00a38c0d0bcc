/**
 * The context of a job, as Python redun has it: a JSON-like object that a run starts with
 * (`[scheduler] context`, `context_file`, `scheduler.run(expr, { context })`, `redun run
 * --context`), that a call can extend (`task.updateContext({...})`), and that every call
 * beneath inherits. Tasks read it with `getContext("a.b", default)`.
 */

/** A job's context: nested plain objects. */
export type JobContext = Readonly<Record<string, unknown>>;

/** The empty context. */
export const EMPTY_CONTEXT: JobContext = Object.freeze({});

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Merges `update` into `base` deeply: objects merge key by key, anything else in `update`
 * (arrays included) replaces what `base` had. Neither argument is changed.
 */
export function mergeContext(base: JobContext, update: JobContext | undefined): JobContext {
  if (!update || Object.keys(update).length === 0) return base;
  if (Object.keys(base).length === 0) return update;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(update)) {
    const current = out[key];
    out[key] =
      isPlainObject(current) && isPlainObject(value) ? mergeContext(current, value) : value;
  }
  return out;
}

/** The value at a dotted path (`"tool.threads"`), or `fallback` when any part is missing. */
export function contextValue(context: JobContext, dottedPath: string, fallback: unknown): unknown {
  let current: unknown = context;
  for (const part of dottedPath.split(".")) {
    if (!isPlainObject(current) || !Object.prototype.hasOwnProperty.call(current, part)) {
      return fallback;
    }
    current = current[part];
  }
  return current;
}

/**
 * A context holding one value at a dotted path: `contextAt("a.b", 1)` is `{ a: { b: 1 } }`
 * (for `redun run --context a.b=1`).
 */
export function contextAt(dottedPath: string, value: unknown): JobContext {
  const parts = dottedPath.split(".");
  if (parts.some((p) => p === "")) {
    throw new TypeError(`invalid context path "${dottedPath}": use dot-separated keys`);
  }
  let out: unknown = value;
  for (const part of parts.reverse()) out = { [part]: out };
  return out as JobContext;
}
