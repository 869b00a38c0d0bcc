/**
 * Finding the values inside a value that stand for a file or directory (instances of a
 * registered type with a `path`, such as File and Dir), so provenance can record them by
 * path: a workflow's files are then found by the path a user knows.
 */
import { MAX_VALUE_DEPTH } from "./depth.ts";
import { handlerForValue } from "./registry.ts";

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
