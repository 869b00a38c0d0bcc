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

/** Evaluates `pred`; then only `then` if it is truthy, otherwise only `otherwise`. */
export function cond<T, E>(
  pred: unknown,
  then: T,
  otherwise: E,
): SchedulerExpression<Resolved<T> | Resolved<E>> {
  return new SchedulerExpression("cond", [pred, then, otherwise]);
}

/** Evaluates the expressions one after another, in order; the result is their values. */
export function seq<const T extends readonly unknown[]>(
  exprs: T,
): SchedulerExpression<Resolved<T>> {
  return new SchedulerExpression("seq", [exprs]);
}

/** An error class (or a subclass of Error) to match in `catch_`. */
export type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * Evaluates `expr`; if it fails with an error of `errorClass`, evaluates
 * `handler(error)` instead. More `(errorClass, handler)` pairs may follow; the first match
 * wins. An error that matches none fails as before.
 */
export function catch_<T, H>(
  expr: T,
  errorClass: ErrorClass,
  handler: Task<[any], H>,
  ...more: (ErrorClass | Task<[any], any>)[]
): SchedulerExpression<Resolved<T> | H> {
  const pairs: [string, Task][] = [];
  const items = [errorClass, handler, ...more];
  for (let i = 0; i < items.length; i += 2) {
    const cls = items[i] as ErrorClass;
    const fn = items[i + 1] as Task;
    if (typeof cls !== "function" || typeof fn !== "function") {
      throw new TypeError(
        "catch_(expr, ErrorClass, handler, ...): expected pairs of an error class and a task",
      );
    }
    registerErrorClass(cls as new () => Error);
    pairs.push([cls.name, fn]);
  }
  return new SchedulerExpression("catch", [expr, pairs]);
}

/** An expression that fails with `error` when evaluated. */
export function throw_(error: Lazy<Error>): SchedulerExpression<never> {
  return new SchedulerExpression("throw", [error]);
}

/** Calls `task` on every item of a list that may itself be an expression. */
export function map_<A, R>(fn: Task<[A], R>, list: Lazy<readonly A[]>): SchedulerExpression<R[]> {
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

/** Evaluates `expr` (for its effects), then returns `value`. */
export function const_<T>(expr: unknown, value: T): SchedulerExpression<Resolved<T>> {
  return new SchedulerExpression("const", [expr, value]);
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
