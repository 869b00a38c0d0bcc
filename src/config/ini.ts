/**
 * An INI parser with the semantics of Python's
 * `configparser.ConfigParser(interpolation=ExtendedInterpolation())`, which is what users of
 * redun's `redun.ini` expect: case-insensitive keys, multi-line values (indented
 * continuation lines), full-line `#`/`;` comments, a `DEFAULT` section inherited by every
 * section, and `${key}` / `${section:key}` interpolation with `$$` for a dollar sign.
 * redun adds one rule: a `${NAME}` found in neither the section nor DEFAULT is read from the
 * environment.
 */
import { ConfigError } from "./config-error.ts";

/** The parsed file. */
export interface IniData {
  /** Section names in file order (without DEFAULT). */
  sections: string[];
  /** Interpolated options per section, including inherited DEFAULT options. */
  values: Record<string, Record<string, string>>;
  /** The DEFAULT section's options as written (not interpolated), like `parser.defaults()`. */
  defaults: Record<string, string>;
  /** Keys each section sets itself (not inherited from DEFAULT), in file order. */
  ownKeys: Record<string, string[]>;
}

/** Options of {@link parseIni}. */
export interface ParseIniOptions {
  /** The file name (or another label), for messages. */
  source: string;
  /** The environment for `${NAME}` fallbacks (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Reads only the sections this accepts (others are left out, uninterpolated, so a bad
   * reference in a section nobody reads is no error). Default: every section.
   */
  only?: (section: string) => boolean;
}

export const DEFAULT_SECTION = "DEFAULT";
/** configparser's MAX_INTERPOLATION_DEPTH. */
const MAX_DEPTH = 10;
/** configparser's SECTCRE: greedy up to the last `]`, trailing text ignored. */
const SECTION_RE = /^\[(.+)\]/;
/** configparser's OPTCRE: the first `=` or `:` separates key from value. */
const OPTION_RE = /^(.*?)\s*([=:])\s*(.*)$/s;

/**
 * A dictionary without a prototype: INI keys such as `__proto__` or `constructor` are
 * ordinary keys, never Object.prototype's properties.
 */
function dict<V>(...sources: Record<string, V>[]): Record<string, V> {
  return Object.assign(Object.create(null) as Record<string, V>, ...sources);
}

/** An own property, or undefined (never an inherited one). */
export function own<V>(
  record: Readonly<Record<string, V>> | undefined,
  key: string,
): V | undefined {
  return record && Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}
/** configparser's _KEYCRE. */
const REFERENCE_RE = /^\$\{([^}]+)\}/;

/** Raw options of one section: each key's lines, joined once the file is read. */
type RawSection = Map<string, string[]>;

/**
 * Parses INI text into fully interpolated sections.
 * @throws ConfigError naming the file and line (syntax) or the section and key
 *   (interpolation).
 */
export function parseIni(text: string, options: ParseIniOptions): IniData {
  const { rawDefaults, rawSections, ownKeys } = readSections(text, options.source);
  const names = [...rawSections.keys()].filter(options.only ?? (() => true));
  const interpolator = new Interpolator(
    options.source,
    options.env ?? process.env,
    rawDefaults,
    rawSections,
  );
  // Object.fromEntries defines keys as own properties, so `__proto__` stays an ordinary key.
  const values = Object.fromEntries(
    names.map((name) => [
      name,
      Object.fromEntries(
        Object.keys(rawSections.get(name)!).map((key) => [key, interpolator.get(name, key)]),
      ),
    ]),
  );
  return {
    sections: names,
    values,
    defaults: Object.fromEntries(Object.entries(rawDefaults)),
    ownKeys: Object.fromEntries(names.map((name) => [name, ownKeys[name]!])),
  };
}

/** Reads the file's structure: sections, keys and (joined, uninterpolated) values. */
function readSections(text: string, source: string) {
  const defaults: RawSection = new Map();
  const sections = new Map<string, RawSection>();
  // Like configparser's strict mode: a section or a (section, key) may appear only once.
  const added = new Set<string>();
  let current: RawSection | undefined;
  let currentName = "";
  let option: string | undefined;
  let indentLevel = 0;

  text.split(/\r?\n/).forEach((line, index) => {
    const lineno = index + 1;
    const stripped = line.trim();
    const isComment = stripped.startsWith("#") || stripped.startsWith(";");
    if (!stripped || isComment) {
      // An empty line may be part of a multi-line value (trailing ones are stripped at the
      // end); a comment line never is.
      if (!isComment && current && option !== undefined) current.get(option)!.push("");
      return;
    }
    const indent = line.length - line.trimStart().length;
    if (current && option !== undefined && indent > indentLevel) {
      current.get(option)!.push(stripped);
      return;
    }
    indentLevel = indent;
    const header = SECTION_RE.exec(stripped);
    if (header) {
      const name = header[1]!;
      if (name === DEFAULT_SECTION) {
        // configparser lets [DEFAULT] reopen; its keys still may not repeat.
        current = defaults;
      } else {
        if (added.has(`[${name}]`)) {
          throw new ConfigError(`${source}, line ${lineno}: section [${name}] appears twice`);
        }
        added.add(`[${name}]`);
        current = new Map();
        sections.set(name, current);
      }
      currentName = name;
      option = undefined;
      return;
    }
    if (!current) {
      throw new ConfigError(
        `${source}, line ${lineno}: "${stripped}" is outside any section (start the file with a [section])`,
      );
    }
    const match = OPTION_RE.exec(stripped);
    if (!match || !match[1]) {
      throw new ConfigError(
        `${source}, line ${lineno}: cannot read "${stripped}" in [${currentName}] (expected key = value)`,
      );
    }
    const key = match[1].toLowerCase();
    if (added.has(`${currentName}\0${key}`)) {
      throw new ConfigError(
        `${source}, line ${lineno}: key "${key}" appears twice in [${currentName}]`,
      );
    }
    added.add(`${currentName}\0${key}`);
    current.set(key, [match[3]!]);
    option = key;
  });

  // configparser joins the lines of a value with "\n" and strips the end only.
  const join = (section: RawSection): Record<string, string> => {
    const out: Record<string, string> = dict();
    for (const [key, parts] of section) out[key] = parts.join("\n").trimEnd();
    return out;
  };
  const rawDefaults = join(defaults);
  const rawSections = new Map<string, Record<string, string>>();
  const ownKeys: Record<string, string[]> = dict();
  for (const [name, section] of sections) {
    rawSections.set(name, dict(rawDefaults, join(section)));
    ownKeys[name] = [...section.keys()];
  }
  return { rawDefaults, rawSections, ownKeys };
}

/** ExtendedInterpolation, plus redun's fallback to the environment. */
class Interpolator {
  constructor(
    private readonly source: string,
    private readonly env: Readonly<Record<string, string | undefined>>,
    private readonly defaults: Record<string, string>,
    private readonly sections: Map<string, Record<string, string>>,
  ) {}

  /** The interpolated value of `key` in `section` (which must exist). */
  get(section: string, key: string): string {
    const origin = { section, key };
    return this.expand(section, this.lookup(section)![key]!, 1, origin);
  }

  /** A section's raw options with DEFAULT merged in; DEFAULT itself is a valid target. */
  private lookup(section: string): Record<string, string> | undefined {
    return section === DEFAULT_SECTION ? this.defaults : this.sections.get(section);
  }

  private fail(origin: { section: string; key: string }, problem: string): ConfigError {
    return new ConfigError(`${this.source}: [${origin.section}] ${origin.key}: ${problem}`);
  }

  private expand(
    section: string,
    value: string,
    depth: number,
    origin: { section: string; key: string },
  ): string {
    if (depth > MAX_DEPTH) {
      throw this.fail(
        origin,
        `interpolation is nested more than ${MAX_DEPTH} levels deep (a reference cycle?)`,
      );
    }
    let out = "";
    let rest = value;
    for (let p = rest.indexOf("$"); p >= 0; p = rest.indexOf("$")) {
      out += rest.slice(0, p);
      rest = rest.slice(p);
      if (rest[1] === "$") {
        out += "$";
        rest = rest.slice(2);
        continue;
      }
      const ref = rest[1] === "{" ? REFERENCE_RE.exec(rest) : null;
      if (!ref) {
        throw this.fail(
          origin,
          `"$" must be followed by "$" or "{name}" (found ${JSON.stringify(rest.slice(0, 20))}; write $$ for a dollar sign)`,
        );
      }
      rest = rest.slice(ref[0].length);
      const name = ref[1]!;
      const parts = name.split(":");
      if (parts.length > 2) throw this.fail(origin, `more than one ":" in \${${name}}`);
      const [refSection, refKey] = parts.length === 2 ? [parts[0]!, parts[1]!] : [section, name];
      const found = own(this.lookup(refSection), refKey.toLowerCase());
      if (found !== undefined) {
        out += found.includes("$") ? this.expand(refSection, found, depth + 1, origin) : found;
        continue;
      }
      // redun's extension: ${NAME} falls back to the environment (the name as written).
      const fromEnv = parts.length === 1 ? own(this.env, refKey) : undefined;
      if (fromEnv === undefined) {
        throw this.fail(
          origin,
          `\${${name}} is not defined ` +
            (parts.length === 1
              ? `in [${section}], [DEFAULT] or the environment`
              : this.lookup(refSection)
                ? `(no key "${refKey}" in [${refSection}])`
                : `(no section [${refSection}])`),
        );
      }
      out += fromEnv;
    }
    return out + rest;
  }
}
