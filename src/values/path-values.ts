/**
 * Finding the values inside a value that stand for a file or directory (instances of a
 * registered type with a `path`, such as File and Dir), so provenance can record them by
 * path: a workflow's files are then found by the path a user knows.
 */
import { MAX_VALUE_DEPTH } from "./depth.ts";
import { handlerForValue, pathTypeNames } from "./registry.ts";

/** A file-like value and the path it names. */
export interface PathValue {
  value: object;
  path: string;
}

/**
 * The file-like values in a value (the value itself included), in the order a walk of
 * arrays, plain objects, Maps and Sets meets them. Registered values are not looked into.
 */
export function pathValues(value: unknown): PathValue[] {
  const found: PathValue[] = [];
  visit(value, 0, found);
  return found;
}

/**
 * Whether a serialized value may hold a file-like value: whether its bytes name one of their
 * types. A quick scan of bytes already made, so most values (numbers, strings, plain data)
 * are never walked.
 */
export function mayHoldPathValues(bytes: Buffer): boolean {
  return pathTypeNames().some((name) => bytes.includes(JSON.stringify(name)));
}

function visit(value: unknown, depth: number, found: PathValue[]): void {
  if (value === null || typeof value !== "object" || depth > MAX_VALUE_DEPTH) return;
  if (Array.isArray(value)) {
    for (const item of value) visit(item, depth + 1, found);
    return;
  }
  if (value instanceof Map) {
    for (const [k, v] of value) {
      visit(k, depth + 1, found);
      visit(v, depth + 1, found);
    }
    return;
  }
  if (value instanceof Set) {
    for (const item of value) visit(item, depth + 1, found);
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    for (const key in value) visit((value as Record<string, unknown>)[key], depth + 1, found);
    return;
  }
  const handler = handlerForValue(value);
  if (handler?.path) found.push({ value, path: handler.path(value) });
}

/**
 * A path cut to `width` characters keeping its distinguishing end (`…/reads/a.fq`, not
 * `/home/me/proj…`): whole trailing segments while they fit, else the end of the last one.
 */
export function shortPath(path: string, width: number): string {
  if (path.length <= width) return path;
  const parts = path.split("/");
  let kept = parts.pop()!;
  if (kept.length + 2 > width) return "…" + kept.slice(kept.length - width + 1);
  while (parts.length > 0 && kept.length + parts[parts.length - 1]!.length + 3 <= width) {
    kept = `${parts.pop()}/${kept}`;
  }
  return `…/${kept}`;
}

/** A file-like value as `File(…/a.fq)`, its path cut to `width`, or undefined for others. */
export function previewPathValue(value: unknown, width: number): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const handler = handlerForValue(value);
  if (!handler?.path) return undefined;
  const name = value.constructor.name;
  return `${name}(${shortPath(handler.path(value), Math.max(8, width - name.length - 2))})`;
}
