/**
 * Type-level helpers that make lazy expressions feel like the values they stand for.
 */
import type { Expression } from "../expressions/expression.ts";

/** Values whose type is taken as it is, never mapped over. */
export type Opaque =
  | string
  | number
  | boolean
  | bigint
  | symbol
  | null
  | undefined
  | Function
  | Date
  | RegExp
  | Error
  | Uint8Array
  | Map<any, any>
  | Set<any>
  | { readonly [OPAQUE]: true };

/** Brand for engine value classes (File, Dir, …) so they are not mapped over. */
export declare const OPAQUE: unique symbol;

/**
 * The concrete type a value has once every expression inside it is evaluated:
 * `Resolved<TaskExpression<number>>` is `number`, `Resolved<[Expression<string>, 1]>` is
 * `[string, 1]`, and promises are awaited.
 */
export type Resolved<T> =
  T extends Expression<infer U>
    ? Resolved<U>
    : T extends PromiseLike<infer P>
      ? Resolved<P>
      : T extends Opaque
        ? T
        : T extends readonly unknown[]
          ? { [K in keyof T]: Resolved<T[K]> }
          : T extends object
            ? { [K in keyof T]: Resolved<T[K]> }
            : T;

/**
 * What may be passed where a `T` is expected: the value itself, an expression of it, or a
 * structure of `T`'s shape with expressions at any depth.
 */
export type Lazy<T> =
  | T
  | Expression<T>
  | (T extends Opaque
      ? never
      : T extends readonly unknown[]
        ? { [K in keyof T]: Lazy<T[K]> }
        : T extends object
          ? { [K in keyof T]: Lazy<T[K]> }
          : never);

/** A task function's parameter list with every parameter made `Lazy`. */
export type LazyArgs<A extends readonly unknown[]> = { [K in keyof A]: Lazy<A[K]> };
