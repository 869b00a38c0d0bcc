/**
 * Typed option schemas: each configurable thing (an executor type, the backend) declares
 * its options with a type and a default; values from `redun.ini` (strings) or from code
 * are checked and converted against it, with errors naming the section and key.
 */
import { ConfigError } from "./errors.ts";

/** The kinds of option values. */
export type OptionType = "string" | "int" | "float" | "bool" | "json" | "list" | "lines";

/** One option's declaration. */
export interface OptionSpec {
  type: OptionType;
  /** Used when the option is not given (and not required). */
  default?: unknown;
  required?: boolean;
  choices?: readonly string[];
  /** Smallest allowed number. */
  min?: number;
  /** Older names still accepted. */
  aliases?: readonly string[];
  /** One line for documentation and `--help`. */
  description?: string;
}

/** A set of declared options, by snake_case name. */
export type OptionSchema = Readonly<Record<string, OptionSpec>>;

/** The result of parsing options: values by name, and warnings (unknown keys). */
export interface ParsedOptions {
  values: Record<string, unknown>;
  warnings: string[];
}

const TRUE = new Set(["1", "yes", "true", "on"]);
const FALSE = new Set(["0", "no", "false", "off"]);

/** Splits like Python's `shlex.split`: whitespace separates words, quotes and `\` escape. */
export function shellSplit(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === "\\" && quote === '"' && (text[i + 1] === '"' || text[i + 1] === "\\"))
        word += text[++i]!;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= "";
    } else if (c === "\\" && i + 1 < text.length) {
      word = (word ?? "") + text[++i]!;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (quote) throw new Error(`unclosed ${quote} quote`);
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
      if (spec.choices && !spec.choices.includes(text))
        throw bad(`one of ${spec.choices.join(", ")}`);
      return text;
    case "int":
    case "float": {
      const n =
        typeof value === "number" ? value : text !== undefined && text !== "" ? Number(text) : NaN;
      if (!Number.isFinite(n) || (spec.type === "int" && !Number.isInteger(n))) {
        throw bad(spec.type === "int" ? "a whole number" : "a number");
      }
      if (spec.min !== undefined && n < spec.min) throw bad(`a number of at least ${spec.min}`);
      return n;
    }
    case "bool":
      if (typeof value === "boolean") return value;
      if (text !== undefined && TRUE.has(text.toLowerCase())) return true;
      if (text !== undefined && FALSE.has(text.toLowerCase())) return false;
      throw bad("true or false (also yes/no, on/off, 1/0)");
    case "json":
      if (text === undefined) return value;
      try {
        return JSON.parse(text);
      } catch (error) {
        throw bad(`JSON (${(error as Error).message})`);
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

/**
 * Checks and converts options against a schema, filling defaults.
 * @param where names the section for messages, e.g. `[executors.batch] in /p/.redun/redun.ini`.
 * @throws ConfigError for a missing required option or a malformed value.
 */
export function parseOptions(
  schema: OptionSchema,
  raw: Readonly<Record<string, unknown>>,
  where: string,
  /** Keys to pass over silently when unknown (those inherited from DEFAULT). */
  inherited: ReadonlySet<string> = new Set(),
): ParsedOptions {
  const values: Record<string, unknown> = {};
  const warnings: string[] = [];
  const known = new Map<string, string>();
  for (const [name, spec] of Object.entries(schema)) {
    known.set(name, name);
    for (const alias of spec.aliases ?? []) known.set(alias, name);
  }
  for (const [key, value] of Object.entries(raw)) {
    const name = known.get(key);
    if (!name) {
      if (inherited.has(key)) continue;
      warnings.push(`${where}: unknown option "${key}" (known: ${Object.keys(schema).join(", ")})`);
      continue;
    }
    // `None` is how redun.ini says "unset" (e.g. `role = None`).
    if (
      value === null ||
      value === undefined ||
      (typeof value === "string" && value.trim() === "None")
    ) {
      values[name] = undefined;
      continue;
    }
    values[name] = convert(schema[name]!, value, where, key);
  }
  for (const [name, spec] of Object.entries(schema)) {
    if (name in values) continue;
    if (spec.required) throw new ConfigError(`${where}: the option "${name}" is required`);
    values[name] = spec.default;
  }
  return { values, warnings };
}
