/**
 * Canonical, type-distinguishing hashing of values.
 *
 * Equal values hash equally whatever the insertion order of object keys, Map entries or
 * Set elements; values of different types never collide by construction (`1`, `"1"` and
 * `1n` are fed with different tags, strings are length-prefixed).
 */
import { createHash, type Hash } from "node:crypto";
import { UnsupportedValueError, childPath, describeValue } from "./errors.ts";
import { MAX_VALUE_DEPTH, tooDeepError } from "./depth.ts";
import { handlerForValue } from "./registry.ts";
import { encodeValue } from "./serialize.ts";

/**
 * Engine classes (tasks, expressions, File) expose their own hash through this symbol so
 * that hashing a value that contains them uses it.
 */
export const HASH = Symbol.for("redun.hash");

/** Implemented by engine classes with a precomputed hash. */
export interface SelfHashing {
  readonly [HASH]: string;
}

/** A 40-hex-digit SHA-1 of a string. */
export function hashString(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

/** Hashes a list of strings unambiguously (each is length-prefixed). */
export function hashParts(parts: readonly string[]): string {
  const hash = createHash("sha1");
  for (const part of parts) hash.update(`${part.length}:${part}`);
  return hash.digest("hex");
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The canonical hash of a value.
 * @param where describes the value for error messages, e.g. `argument "x" of task "add"`.
 * @throws UnsupportedValueError naming the path of the first value that cannot be hashed.
 */
export function hashValue(value: unknown, where = "value"): string {
  const stack = new Set<object>();

  function token(h: Hash, tag: string, text: string): void {
    h.update(`${tag}${text.length}:${text}`);
  }

  function sub(v: unknown, path: string, depth: number): string {
    const h = createHash("sha1");
    feed(h, v, path, depth);
    return h.digest("hex");
  }

  function feed(h: Hash, v: unknown, path: string, depth: number): void {
    switch (typeof v) {
      case "string":
        return token(h, "s", v);
      case "number":
        return token(h, "n", Object.is(v, -0) ? "-0" : String(v));
      case "bigint":
        return token(h, "b", v.toString());
      case "boolean":
        return token(h, "t", v ? "1" : "0");
      case "undefined":
        return token(h, "u", "");
      case "symbol":
        throw new UnsupportedValueError(`${describeValue(v)} cannot be hashed`, path);
      case "function":
        if (HASH in v) return token(h, "H", (v as unknown as SelfHashing)[HASH]);
        throw new UnsupportedValueError(
          `${describeValue(v)} is not a supported value; pass data, or a task`,
          path,
        );
    }
    if (v === null) return token(h, "z", "");
    const obj = v as object;
    if (HASH in obj) return token(h, "H", (obj as SelfHashing)[HASH]);
    if (stack.has(obj))
      throw new UnsupportedValueError("a cycle (the value contains itself)", path);
    if (depth >= MAX_VALUE_DEPTH) throw tooDeepError(value, where);
    stack.add(obj);
    try {
      feedObject(h, obj, path, depth + 1);
    } finally {
      stack.delete(obj);
    }
  }

  function feedObject(h: Hash, obj: object, path: string, depth: number): void {
    if (Array.isArray(obj)) {
      token(h, "A", String(obj.length));
      obj.forEach((x, i) => feed(h, x, childPath(path, i), depth));
      return;
    }
    if (isPlainObject(obj)) {
      const keys = Object.keys(obj).sort();
      token(h, "O", String(keys.length));
      for (const key of keys) {
        token(h, "k", key);
        feed(h, (obj as Record<string, unknown>)[key], childPath(path, key), depth);
      }
      return;
    }
    const handler = handlerForValue(obj);
    if (handler) {
      token(h, "C", handler.name);
      if (handler.hash) return token(h, "h", handler.hash(obj));
      return feed(h, handler.serialize(obj), path, depth);
    }
    if (obj instanceof Map) {
      const entries = [...obj].map(
        ([k, x], i) => sub(k, childPath(path, i), depth) + sub(x, childPath(path, i), depth),
      );
      token(h, "M", entries.sort().join(""));
    } else if (obj instanceof Set) {
      const items = [...obj].map((x, i) => sub(x, childPath(path, i), depth));
      token(h, "S", items.sort().join(""));
    } else if (obj instanceof Date) {
      token(h, "D", String(obj.getTime()));
    } else if (obj instanceof RegExp) {
      token(h, "R", `${obj.flags}/${obj.source}`);
    } else if (obj instanceof Uint8Array) {
      token(h, Buffer.isBuffer(obj) ? "Y" : "B", "");
      h.update(String(obj.byteLength) + ":");
      h.update(obj);
    } else if (obj instanceof Error) {
      // The stack is where the error was made, not what it is.
      const { stack: _stack, ...rest } = encodeValue(obj, path) as Record<string, unknown>;
      token(h, "E", JSON.stringify(rest));
    } else {
      throw new UnsupportedValueError(
        `${describeValue(obj)} is not a supported value; ` +
          "use plain data, or register the class with registerType()",
        path,
      );
    }
  }

  return sub(value, where, 0);
}
