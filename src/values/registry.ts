/**
 * The type registry: how classes that are not built into the value model
 * (File, Dir, user classes) are serialized, hashed and validated.
 */

/** How a registered class crosses threads, processes and the database. */
export interface TypeHandler<T = any> {
  /** A stable name recorded in the database; it must not change between versions. */
  name: string;
  /** Turns an instance into a value made only of supported values (plain data). */
  serialize(value: T): unknown;
  /** The inverse of `serialize`. */
  deserialize(data: any): T;
  /**
   * The content hash of an instance. Defaults to the hash of `serialize(value)`.
   * File uses this so that its hash follows the file's contents rather than its path.
   */
  hash?(value: T): string;
  /**
   * Whether a cached instance is still valid (for example, the file it names still has
   * the recorded contents). An invalid value in a cached result makes the cache miss.
   * May be async (an S3 object is checked with a request).
   */
  isValid?(value: T): boolean | Promise<boolean>;
  /**
   * Makes an instance ready to hash, asynchronously (e.g. fetches an S3 object's ETag).
   * The scheduler awaits it on every argument and result before hashing them.
   */
  prepare?(value: T): Promise<T> | T;
  /**
   * The path or URI an instance names, for values that stand for a file or directory: such
   * values are recorded in the `file` table, so provenance can be queried by path.
   */
  path?(value: T): string;
  /** Called on arguments just before a task runs (for example, to stage a file). */
  preprocess?(value: T): T;
  /** Called on results just after a task returns (for example, to record a file's hash). */
  postprocess?(value: T): T;
}

interface Registered {
  cls: abstract new (...args: any[]) => unknown;
  handler: TypeHandler;
}

const byName = new Map<string, Registered>();
const byClass = new Map<Function, Registered>();

/**
 * Registers a class so that its instances can be task arguments and results.
 *
 * @example
 * registerType(Point, {
 *   name: "geo.Point",
 *   serialize: (p) => ({ x: p.x, y: p.y }),
 *   deserialize: (d) => new Point(d.x, d.y),
 * });
 */
export function registerType<T>(
  cls: abstract new (...args: any[]) => T,
  handler: TypeHandler<T>,
): void {
  const existing = byName.get(handler.name);
  if (existing && existing.cls !== cls && existing.cls.name !== cls.name) {
    throw new Error(
      `registerType: the name "${handler.name}" is already used by class ${existing.cls.name}`,
    );
  }
  const entry: Registered = { cls, handler };
  byName.set(handler.name, entry);
  byClass.set(cls, entry);
}

/** The handler for a value's class (walking up its prototype chain), if registered. */
export function handlerForValue(value: object): TypeHandler | undefined {
  let proto = Object.getPrototypeOf(value);
  while (proto && proto !== Object.prototype) {
    const entry = byClass.get(proto.constructor);
    if (entry) return entry.handler;
    proto = Object.getPrototypeOf(proto);
  }
  return undefined;
}

/** The names of the registered types whose instances name a path (File, Dir, …). */
export function pathTypeNames(): string[] {
  return [...byName].filter(([, entry]) => entry.handler.path).map(([name]) => name);
}

/** The handler registered under a name, if any. */
export function handlerForName(name: string): TypeHandler | undefined {
  return byName.get(name)?.handler;
}
