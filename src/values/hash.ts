/**
 * Canonical, type-distinguishing hashing of values.
 *
 * Equal values hash equally whatever the insertion order of object keys, Map entries or
 * Set elements; values of different types never collide by construction (`1`, `"1"` and
 * `1n` are fed with different tags, strings are length-prefixed).
 */
import crypto, { createHash, type Hash } from "node:crypto";
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

/**
 * SHA-1 of a string in one call: `crypto.hash` (Node 20.12+) is several times cheaper than a
 * `Hash` object for the short inputs the engine hashes per call.
 */
const sha1: (text: string) => string =
  typeof crypto.hash === "function"
    ? (text) => crypto.hash("sha1", text)
    : (text) => createHash("sha1").update(text).digest("hex");

/** A 40-hex-digit SHA-1 of a string. */
export function hashString(text: string): string {
  return sha1(text);
}

/** Hashes a list of strings unambiguously (each is length-prefixed). */
export function hashParts(parts: readonly string[]): string {
  let text = "";
  for (const part of parts) text += `${part.length}:${part}`;
  return sha1(text);
}

/** Text gathered before it goes to a streaming hash (large values). */
const STREAM_AFTER_CHARS = 1 << 16;

/**
 * The bytes of one hash: gathered as text and hashed in one call, or streamed once they
 * grow large or include binary data (the digest is the same either way).
 */
class Digest {
  private text = "";
  private stream: Hash | undefined;

  add(text: string): void {
    this.text += text;
    if (this.text.length > STREAM_AFTER_CHARS) this.flush();
  }

  bytes(data: Uint8Array): void {
    this.flush();
    this.stream!.update(data);
  }

  hex(): string {
    if (!this.stream) return sha1(this.text);
    this.flush();
    return this.stream.digest("hex");
  }

  private flush(): void {
    (this.stream ??= createHash("sha1")).update(this.text);
    this.text = "";
  }
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
  // Made for the first object: most values hashed are plain numbers and strings.
  let stack: Set<object> | undefined;

  function token(h: Digest, tag: string, text: string): void {
    h.add(`${tag}${text.length}:${text}`);
  }

  function sub(v: unknown, path: string, depth: number): string {
    const h = new Digest();
    feed(h, v, path, depth);
    return h.hex();
  }

  function feed(h: Digest, v: unknown, path: string, depth: number): void {
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
    stack ??= new Set();
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

  function feedObject(h: Digest, obj: object, path: string, depth: number): void {
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
      h.add(String(obj.byteLength) + ":");
      h.bytes(obj);
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
