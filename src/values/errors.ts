/** Errors about values that cannot be hashed or serialized. */

/**
 * A value that the engine cannot hash or serialize: a function, an instance of an
 * unregistered class, a cycle. The message names where the value was found.
 */
export class UnsupportedValueError extends Error {
  override name = "UnsupportedValueError";
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
