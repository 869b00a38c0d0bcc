/**
 * Lazy expressions: values the scheduler evaluates later. The call of a task, `TaskExpression`,
 * lives with tasks (api/task.ts), so that expressions need to know nothing of tasks.
 */
import { HASH, hashParts, hashValue } from "../values/hash.ts";
import { ENCODE, registerDecoder, type Wire } from "../values/serialize.ts";
import { UnsupportedValueError } from "../values/errors.ts";
import { MAX_VALUE_DEPTH } from "../values/depth.ts";

const LAZY_HINT =
  "Expressions are lazy: return them from a task (or pass them to other tasks) and the " +
  "scheduler evaluates them; use apply() or a task to compute with their values.";

/**
 * A lazy value of type `T`. Not a promise: `await` does not evaluate it, and using it as
 * a primitive (`expr + 1`, `` `${expr}` ``) throws a clear error.
 */
export abstract class Expression<T = unknown> {
  /** Phantom field carrying the result type; it never exists at run time. */
  declare readonly __result?: T;
  #hash: string | undefined;

  /** A stable hash: two expressions with the same hash evaluate once per execution. */
  get hash(): string {
    return (this.#hash ??= this.computeHash());
  }

  get [HASH](): string {
    return this.hash;
  }

  protected abstract computeHash(): string;

  /** Lazily reads a key or index of this expression's value. */
  get<K extends keyof T & (string | number)>(key: K): SimpleExpression<T[K]>;
  get(key: string | number): SimpleExpression<unknown>;
  get(key: string | number): SimpleExpression<unknown> {
    return new SimpleExpression("getitem", [this, key]);
  }

  [Symbol.toPrimitive](): never {
    throw new TypeError(`Cannot use ${this.describe()} as a primitive value. ${LAZY_HINT}`);
  }

  toJSON(): never {
    throw new TypeError(`Cannot convert ${this.describe()} to JSON. ${LAZY_HINT}`);
  }

  /** A short human description, e.g. `acme.add(1, 2)`. */
  abstract describe(): string;
}

/** Operations on values that are not known yet: reading a key, calling a plain function. */
export class SimpleExpression<T = unknown> extends Expression<T> {
  constructor(
    readonly op: "getitem" | "apply",
    readonly args: readonly unknown[],
  ) {
    super();
  }

  protected computeHash(): string {
    if (this.op === "apply") {
      const [fn, ...rest] = this.args as [Function, ...unknown[]];
      return hashParts(["apply", fn.toString(), hashValue(rest, "arguments of apply()")]);
    }
    return hashParts(["SimpleExpression", this.op, hashValue(this.args, "expression")]);
  }

  describe(): string {
    if (this.op === "getitem")
      return `${describeArg(this.args[0])}[${JSON.stringify(this.args[1])}]`;
    const [fn, ...rest] = this.args as [Function, ...unknown[]];
    return `apply(${fn.name || "function"}, ${rest.map(describeArg).join(", ")})`;
  }

  [ENCODE](encode: (value: unknown, key: string | number) => Wire) {
    if (this.op === "apply") {
      throw new UnsupportedValueError(
        `${this.describe()} holds a plain function, which cannot be sent to another thread, process or ` +
          "the cache; use a task instead of apply(), or run the task that returns it on an executor with mode = inline",
        "apply()",
      );
    }
    return { tag: "simple", data: { op: this.op, args: encode(this.args, "args") } };
  }
}

/** A concrete value in expression position. */
export class ValueExpression<T = unknown> extends Expression<T> {
  constructor(readonly value: T) {
    super();
  }

  protected computeHash(): string {
    return hashParts(["ValueExpression", hashValue(this.value)]);
  }

  describe(): string {
    return describeArg(this.value);
  }

  [ENCODE](encode: (value: unknown, key: string | number) => Wire) {
    return { tag: "valueexpr", data: encode(this.value, "value") };
  }
}

/**
 * Expressions the scheduler evaluates with rules of their own (`cond` evaluates only one
 * branch, `seq` evaluates in order, …). See `helpers.ts`.
 */
export class SchedulerExpression<T = unknown> extends Expression<T> {
  constructor(
    readonly op: string,
    readonly args: readonly unknown[],
  ) {
    super();
  }

  protected computeHash(): string {
    return hashParts([
      "SchedulerExpression",
      this.op,
      hashValue(this.args, `arguments of ${this.op}()`),
    ]);
  }

  describe(): string {
    return `${this.op}(${this.args.map(describeArg).join(", ")})`;
  }

  [ENCODE](encode: (value: unknown, key: string | number) => Wire) {
    return { tag: "schedexpr", data: { op: this.op, args: encode(this.args, "args") } };
  }
}

/** A short description of an argument in an expression's description (`add(1, "a")`). */
export function describeArg(value: unknown): string {
  if (value instanceof Expression) return value.describe();
  if (typeof value === "string")
    return JSON.stringify(value.length > 40 ? value.slice(0, 37) + "..." : value);
  if (typeof value === "function") return (value as any).fullname ?? value.name ?? "function";
  if (Array.isArray(value))
    return `[${value.length > 5 ? `${value.length} items` : value.map(describeArg).join(", ")}]`;
  if (value && typeof value === "object")
    return Object.getPrototypeOf(value) === Object.prototype
      ? "{…}"
      : (value.constructor?.name ?? "object");
  return String(value);
}

/**
 * Whether a value has an expression anywhere inside it (arrays, plain objects, Maps). It
 * looks no deeper than MAX_VALUE_DEPTH: a deeper (or cyclic) value is rejected, by name,
 * when it is hashed.
 */
export function containsExpression(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== "object" || depth > MAX_VALUE_DEPTH) return false;
  if (value instanceof Expression) return true;
  const has = (v: unknown) => containsExpression(v, depth + 1);
  if (Array.isArray(value)) return value.some(has);
  if (value instanceof Map) return [...value].some(([k, v]) => has(k) || has(v));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) if (has((value as Record<string, unknown>)[key])) return true;
  return false;
}

/** A short description of any value, for error messages: an expression, a function, a type. */
export function describeValue(value: unknown): string {
  if (value instanceof Expression) return value.describe();
  if (typeof value === "function") return `the plain function ${value.name || "(anonymous)"}`;
  return value === null ? "null" : typeof value;
}

/** Whether a value is an expression. */
export function isExpression(value: unknown): value is Expression<unknown> {
  return value instanceof Expression;
}

registerDecoder(
  "simple",
  (data: any, decode) => new SimpleExpression(data.op, decode(data.args) as unknown[]),
);
registerDecoder("valueexpr", (data: any, decode) => new ValueExpression(decode(data)));
registerDecoder(
  "schedexpr",
  (data: any, decode) => new SchedulerExpression(data.op, decode(data.args) as unknown[]),
);
