/**
 * How deep values may nest, and the error for a value past that depth (or one that
 * contains itself): walks of values recurse, and a clear limit beats a stack overflow.
 */
import { UnsupportedValueError, childPath } from "./errors.ts";

/**
 * The deepest nesting of arrays, objects, Maps and Sets a value may have. Well within the
 * stack of every walk (hashing, encoding, the scheduler's), and far beyond real data.
 */
export const MAX_VALUE_DEPTH = 1000;

function children(value: object): [string | number, unknown][] {
  if (Array.isArray(value)) return value.map((v, i) => [i, v]);
  if (value instanceof Map)
    return [...value].flatMap(([k, v], i) => [
      [i, k],
      [i, v],
    ]);
  if (value instanceof Set) return [...value].map((v, i) => [i, v]);
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return [];
  return Object.keys(value).map((k) => [k, (value as Record<string, unknown>)[k]]);
}

/**
 * Where a value contains itself (a path below `where`), or undefined. Depth first with a
 * stack of its own, not recursion: it runs on values that are too deep for recursion.
 */
function findCycle(value: unknown, where: string): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const onPath = new Set<object>();
  const stack: {
    value: object;
    path: string;
    children: [string | number, unknown][];
    next: number;
  }[] = [];
  const enter = (v: object, path: string) => {
    onPath.add(v);
    stack.push({ value: v, path, children: children(v), next: 0 });
  };
  enter(value, where);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next >= top.children.length || stack.length > MAX_VALUE_DEPTH) {
      onPath.delete(top.value);
      stack.pop();
      continue;
    }
    const [key, child] = top.children[top.next++]!;
    if (child === null || typeof child !== "object") continue;
    const path = childPath(top.path, key);
    if (onPath.has(child)) return path;
    enter(child, path);
  }
  return undefined;
}

/**
 * The error for a value nested deeper than {@link MAX_VALUE_DEPTH}: a cycle, named where it
 * closes, when that is why; otherwise the limit, named for the whole value (a path a
 * thousand steps long would not be one clear line).
 */
export function tooDeepError(value: unknown, where: string): UnsupportedValueError {
  const cycle = findCycle(value, where);
  if (cycle) return new UnsupportedValueError("a cycle (the value contains itself)", cycle);
  return new UnsupportedValueError(
    `nested deeper than ${MAX_VALUE_DEPTH} levels (arrays, objects, Maps and Sets ` +
      "within each other); flatten it, or store it in a File",
    where,
  );
}
