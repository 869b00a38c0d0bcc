/**
 * Scheduler-level helpers: expressions that the scheduler evaluates with rules of their own.
 */
import type { Task } from "../api/task.ts";
import type { Lazy, LazyArgs, Resolved } from "../api/types.ts";
import { HASH } from "../values/hash.ts";
import { ENCODE, registerDecoder, registerErrorClass, type Wire } from "../values/serialize.ts";
import { Expression, SchedulerExpression, SimpleExpression } from "./expression.ts";

/**
 * Calls a plain function on the evaluated arguments, inside the scheduler. The function
 * runs on the scheduler's thread and its result is not cached, so keep it cheap; it cannot
 * be returned from a task that runs on a worker (functions do not cross threads).
 */
export function apply<A extends unknown[], R>(
  fn: (...args: A) => R,
  ...args: LazyArgs<A>
): SimpleExpression<Resolved<R>> {
  return new SimpleExpression("apply", [fn, ...args]);
}

/** The union of the branches of a `cond` chain: every second argument, and the last. */
export type CondBranches<A extends readonly unknown[]> = A extends readonly [
  unknown,
  infer Then,
  ...infer Rest,
]
  ? Resolved<Then> | CondBranches<Rest>
  : A extends readonly [infer Otherwise]
    ? Resolved<Otherwise>
    : never;

/**
 * An if/elif/else chain: `cond(pred1, then1, pred2, then2, ..., otherwise)`. The predicates
 * are evaluated in order; only the branch of the first truthy one is evaluated, or
 * `otherwise` when none is. Any odd number of arguments from three up.
 *
 * @example
 * cond(isEmpty(reads), report("no reads"), isPaired(reads), alignPaired(reads), alignSingle(reads))
 */
export function cond<const A extends readonly [unknown, unknown, unknown, ...unknown[]]>(
  ...args: A
): SchedulerExpression<CondBranches<A>> {
  if (args.length < 3 || args.length % 2 === 0) {
    throw new TypeError(
      `cond(pred1, then1, ..., otherwise): expected an odd number of arguments (at least 3), got ${args.length}`,
    );
  }
  return new SchedulerExpression("cond", args);
}

/** Evaluates the expressions one after another, in order; the result is their values. */
export function seq<const T extends readonly unknown[]>(
  exprs: T,
): SchedulerExpression<Resolved<T>> {
  return new SchedulerExpression("seq", [exprs]);
}

/** An error class (or a subclass of Error) to match in `catch_`. */
export type ErrorClass = abstract new (...args: any[]) => Error;

/** What `catch_` matches: one error class, or a list of them sharing a handler. */
export type ErrorClasses = ErrorClass | readonly ErrorClass[];

/** A `catch_` handler: a task (or an expression that evaluates to one) called with the error. */
export type ErrorHandler<H> = Task<[any], H> | Expression<Task<[any], H>>;

/**
 * Evaluates `expr`; if it fails with an error of one of the classes, evaluates
 * `handler(error)` instead. More `(classes, handler)` pairs may follow; the first match wins.
 * An error that matches none fails as before. A call that recovered is cached like any
 * other: rerunning an unchanged workflow replays the recovery without running the failing
 * task again.
 *
 * @example
 * catch_(align(sample), [TimeoutError, RangeError], alignSlowly.options({ memory: 16 }))
 */
export function catch_<T, H>(
  expr: T,
  errorClass: ErrorClasses,
  handler: ErrorHandler<H>,
  ...more: (ErrorClasses | ErrorHandler<any>)[]
): SchedulerExpression<Resolved<T> | H> {
  const pairs: [string[], unknown][] = [];
  const items = [errorClass, handler, ...more];
  if (items.length % 2 !== 0) {
    throw new TypeError(
      "catch_(expr, ErrorClass, handler, ...): expected pairs of error classes and handlers",
    );
  }
  for (let i = 0; i < items.length; i += 2) {
    const classes = (Array.isArray(items[i]) ? items[i] : [items[i]]) as unknown[];
    const fn = items[i + 1];
    if (classes.length === 0 || classes.some((c) => typeof c !== "function" || isTaskLike(c))) {
      throw new TypeError(
        `catch_(): argument ${i + 2} must be an error class or a list of error classes`,
      );
    }
    if (!isTaskLike(fn) && !(fn instanceof Expression)) {
      throw new TypeError(
        `catch_(): the handler for ${classes.map((c) => (c as Function).name).join(", ")} must be a ` +
          "task (a plain function cannot be cached or sent to a worker): wrap it with task()",
      );
    }
    for (const cls of classes) registerErrorClass(cls as new () => Error);
    pairs.push([classes.map((c) => (c as Function).name), fn]);
  }
  return new SchedulerExpression("catch", [expr, pairs]);
}

// Tasks are callables carrying a full name; checked structurally, so this layer need not load
// the task module.
function isTaskLike(value: unknown): boolean {
  return typeof value === "function" && typeof (value as any).fullname === "string";
}

/** An expression that fails with `error` when evaluated. */
export function throw_(error: Lazy<Error>): SchedulerExpression<never> {
  return new SchedulerExpression("throw", [error]);
}

/**
 * Calls `task` on every item of a list; the list, and the task itself, may be expressions.
 *
 * @example
 * map_(countWords, listFiles(dir))
 */
export function map_<A, R>(
  fn: Lazy<Task<[A], R>>,
  list: Lazy<readonly A[]>,
): SchedulerExpression<R[]> {
  return new SchedulerExpression("map", [fn, list]);
}

/** The element types of a list of lists, one level down. */
type FlattenOnce<L> = L extends readonly (infer E)[]
  ? (E extends readonly (infer F)[] ? F : E)[]
  : never;

/** Flattens a list of lists (which may be, or contain, expressions) by one level. */
export function flatten<L extends Lazy<readonly unknown[]>>(
  list: L,
): SchedulerExpression<FlattenOnce<Resolved<L>>> {
  return new SchedulerExpression("flatten", [list]);
}

/** Zips lists into a list of tuples, as long as the shortest list. */
export function zip_<const L extends readonly Lazy<readonly unknown[]>[]>(
  ...lists: L
): SchedulerExpression<
  { [K in keyof L]: Resolved<L[K]> extends readonly (infer E)[] ? E : never }[]
> {
  return new SchedulerExpression("zip", lists);
}

/**
 * Returns `value` once `expr` has been evaluated too (for its effects), as Python redun's
 * `const(x, y)` returns `x`.
 *
 * @example
 * const_(outputDir, writeReport(outputDir)) // the directory, after the report is written
 */
export function const_<T>(value: T, expr: unknown): SchedulerExpression<Resolved<T>> {
  return new SchedulerExpression("const", [value, expr]);
}

/**
 * The value at a dotted path of the job's context (see `task.updateContext`,
 * `[scheduler] context`, `redun run --context`), or `fallback` when it is missing. Usable
 * as an argument, a parameter default (`threads = getContext("align.threads", 4)`) or a task
 * option value.
 *
 * @example
 * export const align = task(function align(reads: File, threads = getContext("align.threads", 4)) { ... });
 */
export function getContext<T = unknown>(dottedPath: string, fallback?: T): SchedulerExpression<T> {
  if (typeof dottedPath !== "string" || dottedPath === "") {
    throw new TypeError(
      'getContext(path, default): path must be a dotted string, e.g. "tool.threads"',
    );
  }
  return new SchedulerExpression("context", [dottedPath, fallback]);
}

/**
 * A value that holds an expression without evaluating it; pass it around and `force` it
 * where its value is needed.
 */
export class Delayed<T> {
  constructor(readonly expr: Expression<T>) {}

  get [HASH](): string {
    return this.expr.hash;
  }

  [ENCODE](encode: (value: unknown, key: string | number) => Wire) {
    return { tag: "delayed", data: encode(this.expr, "expr") };
  }
}

registerDecoder(
  "delayed",
  (data: Wire, decode) => new Delayed(decode(data) as Expression<unknown>),
);

/** Wraps an expression so that it is not evaluated until `force`d. */
export function delay<T>(expr: T): SchedulerExpression<Delayed<Resolved<T>>> {
  return new SchedulerExpression("delay", [expr]);
}

/** Evaluates a delayed expression. */
export function force<T>(delayed: Lazy<Delayed<T>>): SchedulerExpression<T> {
  return new SchedulerExpression("force", [delayed]);
}
