/** The base of redun's errors, and errors about values that cannot be hashed or serialized. */

/**
 * The base class of every error redun throws on purpose. Its `code` is stable from release
 * to release (messages are not), so a caller can branch on it:
 * `if (error instanceof RedunError && error.code === "REDUN_CONFIG") ...`. Errors of a
 * task's own code, and of Node or a driver, pass through as they are.
 */
export abstract class RedunError extends Error {
  /**
   * A stable identifier of the kind of error, `REDUN_…` (see the README's list). A getter
   * on each class, so an error rebuilt in another thread has it too.
   */
  abstract get code(): string;
}

/**
 * A value that the engine cannot hash or serialize: a function, an instance of an
 * unregistered class, a cycle. The message names where the value was found.
 */
export class UnsupportedValueError extends RedunError {
  override name = "UnsupportedValueError";
  override get code() {
    return "REDUN_UNSUPPORTED_VALUE" as const;
  }
  constructor(
    message: string,
    /** Where in the value, e.g. `argument "x" of task "acme.add" at x.items[2]`. */
    readonly where: string,
  ) {
    super(`${where}: ${message}`);
  }
}

/** Describes a value's kind for error messages ("a function", "an instance of Foo"). */
export function describeValue(value: unknown): string {
  if (typeof value === "function") return `a function (${value.name || "anonymous"})`;
  if (typeof value === "symbol") return "a symbol";
  if (value && typeof value === "object") {
    const ctor = Object.getPrototypeOf(value)?.constructor;
    return `an instance of ${ctor?.name || "an unknown class"}`;
  }
  return typeof value;
}

/** Appends a key to a value path: `x` + `items` → `x.items`, `x` + 2 → `x[2]`. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}
