/**
 * The wire format: every supported value as JSON-compatible data, so that it can cross
 * worker threads, child processes, containers and the database, and be read by people.
 *
 * Plain data stays as it is (`{"a": [1, "x"]}`); everything else is an object tagged with
 * `$t` (`{"$t": "map", "v": [[k, v]]}`). A plain object that itself has a `$t` key is
 * wrapped, so decoding is never ambiguous.
 */
import { UnsupportedValueError, childPath, describeValue } from "./errors.ts";
import { MAX_VALUE_DEPTH, tooDeepError } from "./depth.ts";
import { handlerForName, handlerForValue } from "./registry.ts";

/** JSON-compatible data. */
export type Wire = null | boolean | number | string | Wire[] | { [key: string]: Wire };

/**
 * Engine classes (tasks, expressions) encode themselves through this symbol so that
 * this module needs no import of them.
 */
export const ENCODE = Symbol.for("redun.encode");

/** Implemented by engine classes that travel in the wire format. */
export interface SelfEncoding {
  [ENCODE](encode: (value: unknown, key: string | number) => Wire): { tag: string; data: Wire };
}

type Decoder = (data: any, decode: (wire: Wire) => unknown) => unknown;
const decoders = new Map<string, Decoder>();

/** Registers the decoder for an engine tag (`task`, `expr`, …). */
export function registerDecoder(tag: string, decoder: Decoder): void {
  decoders.set(tag, decoder);
}

const errorClasses = new Map<string, new (message?: string) => Error>([
  ["Error", Error],
  ["TypeError", TypeError],
  ["RangeError", RangeError],
  ["SyntaxError", SyntaxError],
  ["ReferenceError", ReferenceError],
  ["EvalError", EvalError],
  ["URIError", URIError],
  ["UnsupportedValueError", UnsupportedValueError as unknown as new (message?: string) => Error],
]);

/**
 * Makes errors of this class come back as instances of it after crossing a thread or
 * process boundary (so that `catch_` and `instanceof` work). `catch_` calls this itself.
 */
export function registerErrorClass(cls: new (...args: any[]) => Error): void {
  errorClasses.set(cls.name, cls as new (message?: string) => Error);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The class names of an error from most to least derived, e.g. ["HttpError", "Error"]. */
export function errorClassChain(error: Error): string[] {
  const names: string[] = [];
  let proto = Object.getPrototypeOf(error);
  while (proto && proto !== Object.prototype) {
    if (proto.constructor?.name) names.push(proto.constructor.name);
    proto = Object.getPrototypeOf(proto);
  }
  return names;
}

/**
 * Encodes a value into the wire format.
 * @param where describes the value for error messages (e.g. `argument "x" of task "add"`).
 * @throws UnsupportedValueError naming the path of the first unsupported value.
 */
export function encodeValue(value: unknown, where = "value"): Wire {
  // Made for the first object: most values encoded are plain numbers and strings.
  let stack: Set<object> | undefined;
  // Depth of the object being encoded: a value may nest at most MAX_VALUE_DEPTH deep.
  let depth = 0;

  function enc(v: unknown, path: string): Wire {
    switch (typeof v) {
      case "string":
      case "boolean":
        return v;
      case "number":
        if (Number.isFinite(v) && !Object.is(v, -0)) return v;
        return { $t: "num", v: Object.is(v, -0) ? "-0" : String(v) };
      case "bigint":
        return { $t: "bigint", v: v.toString() };
      case "undefined":
        return { $t: "undef" };
      case "symbol":
      case "function":
        if (typeof v === "function" && ENCODE in v) return encodeSelf(v as any, path);
        throw new UnsupportedValueError(unsupportedMessage(v), path);
    }
    if (v === null) return null;
    const obj = v as object;
    stack ??= new Set();
    if (stack.has(obj)) {
      throw new UnsupportedValueError("a cycle (the value contains itself)", path);
    }
    if (depth >= MAX_VALUE_DEPTH) throw tooDeepError(value, where);
    stack.add(obj);
    depth++;
    try {
      return encObject(obj, path);
    } finally {
      depth--;
      stack.delete(obj);
    }
  }

  function encodeSelf(v: SelfEncoding, path: string): Wire {
    const { tag, data } = v[ENCODE]((x, key) => enc(x, childPath(path, key)));
    return { $t: tag, v: data };
  }

  function encObject(obj: object, path: string): Wire {
    if (Array.isArray(obj)) return obj.map((x, i) => enc(x, childPath(path, i)));
    if (isPlainObject(obj)) {
      // fromEntries defines own properties: a `__proto__` key stays a key.
      const out: Record<string, Wire> = Object.fromEntries(
        Object.keys(obj).map((key) => [
          key,
          enc((obj as Record<string, unknown>)[key], childPath(path, key)),
        ]),
      );
      return Object.hasOwn(out, "$t") ? { $t: "obj", v: out } : out;
    }
    if (ENCODE in obj) return encodeSelf(obj as SelfEncoding, path);
    const handler = handlerForValue(obj);
    if (handler) {
      return { $t: "custom", type: handler.name, v: enc(handler.serialize(obj), path) };
    }
    if (obj instanceof Map) {
      return {
        $t: "map",
        v: [...obj].map(([k, x], i) => [enc(k, childPath(path, i)), enc(x, childPath(path, i))]),
      };
    }
    if (obj instanceof Set)
      return { $t: "set", v: [...obj].map((x, i) => enc(x, childPath(path, i))) };
    if (obj instanceof Date) {
      const time = obj.getTime();
      return { $t: "date", v: Number.isNaN(time) ? "Invalid" : obj.toISOString() };
    }
    if (obj instanceof RegExp) return { $t: "regexp", v: obj.source, flags: obj.flags };
    if (Buffer.isBuffer(obj)) return { $t: "buffer", v: obj.toString("base64") };
    if (obj instanceof Uint8Array) return { $t: "bytes", v: Buffer.from(obj).toString("base64") };
    if (obj instanceof Error) return encError(obj, path);
    throw new UnsupportedValueError(unsupportedMessage(obj), path);
  }

  function encError(error: Error, path: string): Wire {
    const props: Record<string, Wire> = {};
    for (const key of Object.keys(error)) {
      if (key === "name" || key === "message" || key === "stack") continue;
      try {
        props[key] = enc((error as any)[key], childPath(path, key));
      } catch {
        props[key] = String((error as any)[key]); // an error's extras must never hide the error
      }
    }
    return {
      $t: "error",
      classes: errorClassChain(error),
      name: error.name,
      message: error.message,
      stack: error.stack ?? null,
      props,
    };
  }

  return enc(value, where);
}

function unsupportedMessage(value: unknown): string {
  return (
    `${describeValue(value)} is not a supported value; ` +
    "use plain data, or register the class with registerType()"
  );
}

/** Decodes wire-format data back into values. */
export function decodeValue(wire: Wire): unknown {
  if (wire === null || typeof wire !== "object") return wire;
  if (Array.isArray(wire)) return wire.map(decodeValue);
  const tag = wire.$t;
  if (typeof tag !== "string") return decodeEntries(wire);
  const w = wire as any;
  switch (tag) {
    case "obj":
      return decodeEntries(w.v);
    case "num":
      return w.v === "-0" ? -0 : Number(w.v);
    case "bigint":
      return BigInt(w.v);
    case "undef":
      return undefined;
    case "map":
      return new Map(w.v.map(([k, v]: [Wire, Wire]) => [decodeValue(k), decodeValue(v)]));
    case "set":
      return new Set(w.v.map(decodeValue));
    case "date":
      return new Date(w.v === "Invalid" ? NaN : w.v);
    case "regexp":
      return new RegExp(w.v, w.flags);
    case "buffer":
      return Buffer.from(w.v, "base64");
    case "bytes":
      return new Uint8Array(Buffer.from(w.v, "base64"));
    case "error":
      return decodeError(w);
    case "custom": {
      const handler = handlerForName(w.type);
      if (!handler) {
        throw new Error(
          `Cannot decode a value of registered type "${w.type}": no class is registered ` +
            "under that name in this process (is the module that calls registerType imported?)",
        );
      }
      return handler.deserialize(decodeValue(w.v));
    }
    default: {
      const decoder = decoders.get(tag);
      if (!decoder) throw new Error(`Cannot decode a value tagged "${tag}"`);
      return decoder(w.v, decodeValue);
    }
  }
}

function decodeEntries(wire: { [key: string]: Wire }): Record<string, unknown> {
  return Object.fromEntries(Object.keys(wire).map((key) => [key, decodeValue(wire[key]!)]));
}

function decodeError(w: any): Error {
  const chain: string[] = w.classes ?? [w.name];
  const cls = chain.map((name) => errorClasses.get(name)).find(Boolean) ?? Error;
  const error = Object.create(cls.prototype) as Error;
  Object.defineProperty(error, "message", { value: w.message, writable: true, configurable: true });
  Object.defineProperty(error, "stack", {
    value: w.stack ?? undefined,
    writable: true,
    configurable: true,
  });
  if (error.name !== w.name) {
    Object.defineProperty(error, "name", { value: w.name, writable: true, configurable: true });
  }
  for (const [key, value] of Object.entries(w.props ?? {})) {
    (error as any)[key] = decodeValue(value as Wire);
  }
  // Keep the original class chain so catch_ can match classes this process never registered.
  Object.defineProperty(error, "redunClassChain", { value: chain, enumerable: false });
  return error;
}

/**
 * Whether an error is of the class with this name: its own class chain, or for an error
 * decoded from another process, the chain recorded where it was thrown.
 */
export function errorIsA(error: unknown, className: string): boolean {
  if (!(error instanceof Error)) return false;
  const chain = ((error as any).redunClassChain as string[] | undefined) ?? errorClassChain(error);
  return chain.includes(className);
}

/** Serializes a value to bytes for storage (UTF-8 JSON of the wire format). */
export function serializeValue(value: unknown, where?: string): Buffer {
  return Buffer.from(JSON.stringify(encodeValue(value, where)), "utf8");
}

/** The inverse of `serializeValue`. */
export function deserializeValue(bytes: Uint8Array): unknown {
  return decodeValue(JSON.parse(Buffer.from(bytes).toString("utf8")) as Wire);
}
