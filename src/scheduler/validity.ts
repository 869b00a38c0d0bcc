/**
 * Cached values are checked before they are replayed, and registered values are prepared
 * (e.g. an S3 file's ETag fetched) before they are hashed.
 */
import {
  Expression,
  SchedulerExpression,
  SimpleExpression,
  ValueExpression,
} from "../expressions/expression.ts";
import { TaskExpression } from "../api/task.ts";
import { Delayed } from "../expressions/helpers.ts";
import { MAX_VALUE_DEPTH } from "../values/depth.ts";
import { handlerForValue } from "../values/registry.ts";

/**
 * The values an expression holds (a call's arguments, …). A result may be an expression
 * whose arguments hold Files: they are prepared and validated like any other value.
 */
function expressionParts(expr: Expression): readonly unknown[] {
  if (expr instanceof TaskExpression) return expr.args;
  if (expr instanceof SimpleExpression || expr instanceof SchedulerExpression) return expr.args;
  if (expr instanceof ValueExpression) return [expr.value];
  return [];
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Whether a value contains any registered (non-builtin) value, so walks can be skipped. */
function hasRegistered(value: unknown, seen?: Set<Expression>, depth = 0): boolean {
  // Past MAX_VALUE_DEPTH (or in a cycle) hashing rejects the value, by name.
  if (value === null || typeof value !== "object" || depth > MAX_VALUE_DEPTH) return false;
  // Made for the first object: most values walked are plain numbers and strings.
  seen ??= new Set();
  const has = (v: unknown) => hasRegistered(v, seen, depth + 1);
  if (Array.isArray(value)) return value.some(has);
  if (value instanceof Delayed) return has(value.expr);
  if (value instanceof Expression) {
    // Expressions may share sub-expressions: each is walked once.
    if (seen.has(value)) return false;
    seen.add(value);
    return expressionParts(value).some(has);
  }
  if (handlerForValue(value)) return true;
  if (value instanceof Map) return [...value].some(([k, v]) => has(k) || has(v));
  if (value instanceof Set) return [...value].some(has);
  return isPlainObject(value) && Object.values(value).some(has);
}

/**
 * Whether every registered value inside a value (a File, say) still matches what was
 * recorded: walks arrays, plain objects, Maps and Sets, asking each type's `isValid`.
 */
export async function isValueValid(value: unknown): Promise<boolean> {
  if (!hasRegistered(value)) return true;
  const checks: (boolean | Promise<boolean>)[] = [];
  const seen = new Set<Expression>();
  const walk = (v: unknown, depth: number): void => {
    if (v === null || typeof v !== "object" || depth > MAX_VALUE_DEPTH) return;
    const next = (x: unknown) => walk(x, depth + 1);
    if (Array.isArray(v)) return v.forEach(next);
    if (v instanceof Delayed) return next(v.expr);
    if (v instanceof Expression) {
      if (!seen.has(v)) {
        seen.add(v);
        expressionParts(v).forEach(next);
      }
      return;
    }
    const handler = handlerForValue(v);
    if (handler) {
      if (handler.isValid) checks.push(handler.isValid(v));
      return;
    }
    if (v instanceof Map) return v.forEach((x, k) => (next(k), next(x)));
    if (v instanceof Set) return v.forEach(next);
    if (isPlainObject(v)) Object.values(v).forEach(next);
  };
  walk(value, 0);
  return (await Promise.all(checks)).every(Boolean);
}

/**
 * Runs registered types' `prepare` on every registered value inside a value (in place where
 * possible). Inside expressions (which cannot be rebuilt), `prepare` must work in place, as
 * File's and Dir's do.
 */
export async function prepareValue<T>(value: T): Promise<T> {
  return prepared(value);
}

/**
 * {@link prepareValue}, synchronous when nothing inside needs preparing: most values of a
 * fan-out, which then spend no turn of the event loop (and no suspended step) on it.
 */
export function prepared<T>(value: T): T | Promise<T> {
  return hasRegistered(value) ? prepareRegistered(value) : value;
}

async function prepareRegistered<T>(value: T): Promise<T> {
  const seen = new Set<Expression>();
  const walk = async (v: unknown, depth = 0): Promise<unknown> => {
    if (v === null || typeof v !== "object" || depth > MAX_VALUE_DEPTH) return v;
    const next = (x: unknown) => walk(x, depth + 1);
    if (Array.isArray(v)) return Promise.all(v.map(next));
    if (v instanceof Delayed) {
      // A quoted expression (a catch_ job's, a root job's) is prepared in place.
      await next(v.expr);
      return v;
    }
    if (v instanceof Expression) {
      if (!seen.has(v)) {
        seen.add(v);
        await Promise.all(expressionParts(v).map(next));
      }
      return v;
    }
    const handler = handlerForValue(v);
    if (handler) return handler.prepare ? handler.prepare(v) : v;
    if (v instanceof Map) {
      const entries = await Promise.all(
        [...v].map(async ([k, x]) => [await next(k), await next(x)] as const),
      );
      return new Map(entries);
    }
    if (v instanceof Set) return new Set(await Promise.all([...v].map(next)));
    if (isPlainObject(v)) {
      const keys = Object.keys(v);
      const values = await Promise.all(keys.map((k) => next((v as Record<string, unknown>)[k])));
      return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
    }
    return v;
  };
  return (await walk(value)) as T;
}
