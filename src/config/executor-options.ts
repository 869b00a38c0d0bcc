/**
 * The option schemas of executor types, as the configuration sees them: a store filled by
 * the executor registry (src/executors/executor.ts) as each type's module loads, and by
 * {@link registerExecutorSchema} for user-defined types. The configuration knows no executor
 * itself; it asks this store for the schema of the `type` an `[executors.NAME]` section names.
 */
import type { OptionSchema } from "./option-schema.ts";

/** Declared options by executor type: the loaded built-in types and the registered ones. */
export const EXECUTOR_SCHEMAS: Record<string, OptionSchema> = {};

/** Built-in types (their schemas arrive when their modules load; users cannot redeclare them). */
const BUILTIN = new Set<string>();

/** The option schema of an executor type (built in and loaded, or registered), if declared. */
export function executorSchema(type: string): OptionSchema | undefined {
  return Object.hasOwn(EXECUTOR_SCHEMAS, type) ? EXECUTOR_SCHEMAS[type] : undefined;
}

/**
 * Declares the options of a user-defined executor type, so its `[executors.NAME]`
 * sections are checked (and defaults filled) like the built-in ones. Registering a type
 * again replaces its schema.
 * @throws Error when `type` is a built-in executor type.
 */
export function registerExecutorSchema(type: string, schema: OptionSchema): void {
  if (BUILTIN.has(type)) {
    throw new Error(`executor type "${type}" is built in; its options cannot be redeclared`);
  }
  EXECUTOR_SCHEMAS[type] = schema;
}

/**
 * Marks a built-in executor type, whose schema is supplied when its module loads.
 * @internal For the executor registry.
 */
export function reserveExecutorType(type: string): void {
  BUILTIN.add(type);
}

/**
 * Supplies the schema of a built-in executor type.
 * @internal For the executor registry.
 */
export function defineExecutorSchema(type: string, schema: OptionSchema): void {
  BUILTIN.add(type);
  EXECUTOR_SCHEMAS[type] = schema;
}

/**
 * Whether a type is built in but its schema is not loaded yet: its section's options are
 * checked once the type loads (the scheduler loads the types a configuration names).
 */
export function executorSchemaPending(type: string): boolean {
  return BUILTIN.has(type) && !Object.hasOwn(EXECUTOR_SCHEMAS, type);
}

/** `[DEFAULT]` keys given to a section whose type's schema was not loaded when it was read. */
const inherited = new WeakMap<object, ReadonlySet<string>>();

/**
 * Records which of a section's options came from `[DEFAULT]` while its type's schema was
 * not loaded: parsing keeps those its type declares and drops the others without a warning
 * (as when the schema is known on reading, see `Config.executors`).
 */
export function markInheritedOptions(options: object, keys: ReadonlySet<string>): void {
  if (keys.size > 0) inherited.set(options, keys);
}

/** The options of a section that came from `[DEFAULT]` (see {@link markInheritedOptions}). */
export function inheritedOptions(options: object): ReadonlySet<string> | undefined {
  return inherited.get(options);
}
