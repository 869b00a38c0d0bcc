/**
 * Typed option schemas: each configurable thing (an executor type, the backend) declares
 * its options with a type and a default; values from `redun.ini` (strings) or from code
 * are checked and converted against it, with errors naming the section and key.
 */
import path from "node:path";
import { ConfigError } from "./config-error.ts";

/**
 * The kinds of option values:
 * - `string`, `int`, `float`;
 * - `bool`: configparser's words, 1/yes/true/on and 0/no/false/off (any case);
 * - `json`: a JSON object;
 * - `list`: whitespace-separated words with shell-like quoting (Python's `shlex.split`);
 * - `lines`: one item per non-empty line.
 */
export type OptionType = "string" | "int" | "float" | "bool" | "json" | "list" | "lines";

/** One option's declaration. */
export interface OptionSpec {
  type: OptionType;
  /**
   * Used when the option is not given (and not required), or given as `None`. Without a
   * default the option is optional: `undefined` when not given, `null` when `None` (so an
   * executor can tell "use your own default" from "none at all", as `role = None` needs).
   */
  default?: unknown;
  /** A default computed from the other options (e.g. a path under another option). */
  defaultFrom?: (values: Readonly<Record<string, unknown>>) => unknown;
  required?: boolean;
  /** Allowed values of a `string` option. */
  choices?: readonly string[];
  /** Smallest allowed number. */
  min?: number;
  /** Older names still accepted (with a deprecation warning). */
  aliases?: readonly string[];
  /** A local path: relative ones are resolved against `baseDir` (the configuration dir). */
  isPath?: boolean;
  /** A check involving other options; returns the problem, if any. */
  check?: (value: unknown, values: Readonly<Record<string, unknown>>) => string | undefined;
  /** One line for documentation and `--help`. */
  description?: string;
}

/** A set of declared options, by snake_case name (as in redun.ini). */
export type OptionSchema = Readonly<Record<string, OptionSpec>>;

/** The TypeScript type of one option type's values. */
export type OptionValue<T extends OptionType> = T extends "string"
  ? string
  : T extends "int" | "float"
    ? number
    : T extends "bool"
      ? boolean
      : T extends "json"
        ? Record<string, unknown>
        : string[];

/** Whether an option always has a value: it is required or has a default. */
type AlwaysSet<S extends OptionSpec> = S extends { required: true }
  ? true
  : S extends { defaultFrom: (...args: never[]) => unknown }
    ? true
    : S extends { default: infer D }
      ? undefined extends D
        ? false
        : true
      : false;

/**
 * The parsed values of a schema: declare a schema with `satisfies OptionSchema` to get
 * precise types. Optional options without a default are `undefined` when not given and
 * `null` when set to `None`.
 */
export type OptionValues<S extends OptionSchema> = {
  -readonly [K in keyof S]: AlwaysSet<S[K]> extends true
    ? OptionValue<S[K]["type"]>
    : OptionValue<S[K]["type"]> | null | undefined;
};

/** The result of parsing options: values by name, and warnings (unknown keys, …). */
export interface ParsedOptions<V = Record<string, unknown>> {
  values: V;
  warnings: string[];
}

/** Extra context for {@link parseOptions}. */
export interface ParseOptionsContext {
  /** Keys to pass over silently when unknown (those inherited from DEFAULT). */
  inherited?: ReadonlySet<string>;
  /** Where relative `isPath` options are resolved (the configuration directory). */
  baseDir?: string;
}

const TRUE = new Set(["1", "yes", "true", "on"]);
const FALSE = new Set(["0", "no", "false", "off"]);
// Python's int() and float() syntax (without underscores, inf and nan).
const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const URL_RE = /^[a-z][a-z0-9+.-]*:\/\//i;

const SHELL_SPACE = new Set([" ", "\t", "\r", "\n"]);

/**
 * Splits like Python's `shlex.split` (POSIX mode, no comments): whitespace separates words;
 * single quotes keep everything literally; inside double quotes a backslash escapes only
 * a double quote or a backslash; elsewhere it escapes any character.
 * @throws Error for an unclosed quote or a trailing backslash.
 */
export function shellSplit(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined; // undefined: between words ("" is a quoted empty word)
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && (text[i + 1] === '"' || text[i + 1] === "\\")) {
        word += text[++i]!;
      } else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= "";
    } else if (c === "\\") {
      if (i + 1 >= text.length) throw new Error("no character after the final backslash");
      word = (word ?? "") + text[++i]!;
    } else if (SHELL_SPACE.has(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (quote) throw new Error(`no closing ${quote} quote`);
  if (word !== undefined) words.push(word);
  return words;
}

/** Converts one value (a string from the ini file, or a value from code) to its type. */
function convert(spec: OptionSpec, value: unknown, where: string, key: string): unknown {
  const bad = (expected: string) =>
    new ConfigError(`${where} ${key}: expected ${expected}, got ${JSON.stringify(value)}`);
  const text = typeof value === "string" ? value.trim() : undefined;
  switch (spec.type) {
    case "string":
      if (text === undefined) throw bad("a string");
      if (spec.choices && !spec.choices.includes(text)) {
        throw bad(`one of ${spec.choices.join(", ")}`);
      }
      return text;
    case "int":
    case "float": {
      const isInt = spec.type === "int";
      let n = NaN;
      if (typeof value === "number") n = value;
      else if (text !== undefined && (isInt ? INT_RE : FLOAT_RE).test(text)) n = Number(text);
      if (!Number.isFinite(n) || (isInt && !Number.isInteger(n))) {
        throw bad(isInt ? "a whole number" : "a number");
      }
      // 99999999999999999999 would silently become 100000000000000000000.
      if (isInt && !Number.isSafeInteger(n)) {
        throw bad(
          `a whole number between ${-Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`,
        );
      }
      if (spec.min !== undefined && n < spec.min) {
        throw bad(`${isInt ? "a whole number" : "a number"} of at least ${spec.min}`);
      }
      return n;
    }
    case "bool":
      if (typeof value === "boolean") return value;
      if (text !== undefined && TRUE.has(text.toLowerCase())) return true;
      if (text !== undefined && FALSE.has(text.toLowerCase())) return false;
      throw bad("true or false (also yes/no, on/off, 1/0)");
    case "json": {
      let parsed = value;
      if (text !== undefined) {
        try {
          parsed = JSON.parse(text);
        } catch (error) {
          throw bad(`a JSON object (${(error as Error).message})`);
        }
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw bad("a JSON object");
      }
      return parsed;
    }
    case "list":
      if (Array.isArray(value)) return value.map(String);
      if (text === undefined) throw bad("a whitespace-separated list");
      try {
        return shellSplit(text);
      } catch (error) {
        throw bad(`a whitespace-separated list (${(error as Error).message})`);
      }
    case "lines":
      if (Array.isArray(value)) return value.map(String);
      if (text === undefined) throw bad("one value per line");
      return text
        .split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
  }
}

/** Whether a spec has no value unless given, so that `None` may unset it. */
function isOptional(spec: OptionSpec): boolean {
  return !spec.required && spec.default === undefined && !spec.defaultFrom;
}

/**
 * Checks and converts options against a schema, filling defaults.
 * @param raw options as written (strings from redun.ini) or typed values from code.
 * @param where names the section for messages, e.g. `[executors.batch] in /p/.redun/redun.ini`.
 * @returns the values by option name (aliases mapped to their option), and warnings for
 *   unknown or deprecated keys, for the caller to show.
 * @throws ConfigError for a missing required option or a malformed value, naming the
 *   section, the key, the value and what was expected.
 */
export function parseOptions<S extends OptionSchema>(
  schema: S,
  raw: Readonly<Record<string, unknown>>,
  where: string,
  context: ParseOptionsContext = {},
): ParsedOptions<OptionValues<S>> {
  const values: Record<string, unknown> = {};
  const warnings: string[] = [];
  const known = new Map<string, string>();
  for (const [name, spec] of Object.entries(schema)) {
    known.set(name, name);
    for (const alias of spec.aliases ?? []) known.set(alias, name);
  }
  const given = new Map<string, string>(); // option name → key as written
  for (const [key, value] of Object.entries(raw)) {
    const name = known.get(key);
    if (!name) {
      if (!context.inherited?.has(key)) {
        warnings.push(
          `${where}: unknown option "${key}" (known: ${Object.keys(schema).join(", ")})`,
        );
      }
      continue;
    }
    if (name !== key) {
      if (given.has(name) || name in raw) {
        warnings.push(`${where}: "${key}" is ignored because "${name}" is also given`);
        continue;
      }
      warnings.push(`${where}: "${key}" is deprecated; use "${name}"`);
    }
    given.set(name, key);
    const spec = schema[name]!;
    if (value === undefined) continue;
    // `None` is how redun.ini says "unset" (e.g. `role = None` for no job role).
    if (value === null || (typeof value === "string" && value.trim() === "None")) {
      if (spec.required) {
        throw new ConfigError(
          `${where} ${key}: expected a value (the option is required), got "None"`,
        );
      }
      if (isOptional(spec)) values[name] = null;
      continue;
    }
    let converted = convert(spec, value, where, key);
    if (spec.isPath && context.baseDir && typeof converted === "string") {
      if (!path.isAbsolute(converted) && !URL_RE.test(converted)) {
        converted = path.resolve(context.baseDir, converted);
      }
    }
    values[name] = converted;
  }
  for (const [name, spec] of Object.entries(schema)) {
    if (name in values) continue;
    if (spec.required) throw new ConfigError(`${where}: the option "${name}" is required`);
    if (!spec.defaultFrom) values[name] = spec.default;
  }
  // Computed defaults see every given and plain default value.
  for (const [name, spec] of Object.entries(schema)) {
    if (!(name in values) && spec.defaultFrom) values[name] = spec.defaultFrom(values);
  }
  for (const [name, spec] of Object.entries(schema)) {
    const value = values[name];
    const problem = value == null ? undefined : spec.check?.(value, values);
    if (problem) {
      throw new ConfigError(
        `${where} ${given.get(name) ?? name}: ${problem}, got ${JSON.stringify(value)}`,
      );
    }
  }
  return { values: values as OptionValues<S>, warnings };
}
