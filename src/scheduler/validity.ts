/**
 * Whether a cached value is still valid: every registered value inside it (a File, say)
 * still matches what was recorded.
 */
import { handlerForValue } from "../values/registry.ts";

/** Walks arrays, plain objects, Maps and Sets, asking registered types' `isValid`. */
export function isValueValid(value: unknown): boolean {
  if (value === null || typeof value !== "object") return true;
  if (Array.isArray(value)) return value.every(isValueValid);
  const handler = handlerForValue(value);
  if (handler) return handler.isValid ? handler.isValid(value) : true;
  if (value instanceof Map) return [...value].every(([k, v]) => isValueValid(k) && isValueValid(v));
  if (value instanceof Set) return [...value].every(isValueValid);
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) return Object.values(value).every(isValueValid);
  return true;
}
