/**
 * An INI parser with the semantics of Python's
 * `configparser.ConfigParser(interpolation=ExtendedInterpolation())`, which is what users of
 * redun's `redun.ini` expect: case-insensitive keys, multi-line values (indented
 * continuation lines), full-line `#`/`;` comments, a `DEFAULT` section inherited by every
 * section, and `${key}` / `${section:key}` interpolation with `$$` for a dollar sign.
 * redun adds one rule: a `${NAME}` found in neither the section nor DEFAULT is read from the
 * environment.
 */
import { ConfigError } from "./errors.ts";

/** The parsed file: every section's options, fully interpolated, DEFAULT keys included. */
export interface IniData {
  /** Section names in file order (without DEFAULT). */
  sections: string[];
  /** Interpolated options per section, including inherited DEFAULT options. */
  values: Record<string, Record<string, string>>;
  /** The DEFAULT section's interpolated options. */
  defaults: Record<string, string>;
  /** Keys each section sets itself (not inherited from DEFAULT). */
  ownKeys: Record<string, string[]>;
}

const DEFAULT_SECTION = "DEFAULT";
const MAX_DEPTH = 10;
const SECTION_RE = /^\[(.+)\]/;
const OPTION_RE = /^(.*?)\s*([=:])\s*(.*)$/;

interface RawSection {
  options: Map<string, string[]>;
}

/**
 * Parses INI text.
 * @param source the file name, for messages.
 * @param env the environment for `${NAME}` fallbacks (default `process.env`).
 * @throws ConfigError naming the file and line (syntax) or section and key (interpolation).
 */
export function parseIni(
  text: string,
  options: { source: string; env?: Record<string, string | undefined> },
): IniData {
  const { source } = options;
  const env = options.env ?? process.env;
  const raw = new Map<string, RawSection>();
  const defaults: RawSection = { options: new Map() };
  const seen = new Set<string>();
  let current: RawSection | undefined;
  let currentName = "";
  let option: string | undefined;
  let indentLevel = 0;

  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    const lineno = index + 1;
    const stripped = line.trim();
    const isComment = stripped.startsWith("#") || stripped.startsWith(";");
    if (!stripped || isComment) {
      // configparser keeps empty lines inside a value (trimmed at the end), not comment lines.
      if (!isComment && current && option !== undefined) current.options.get(option)!.push("");
      return;
    }
    const indent = line.length - line.trimStart().length;
    if (current && option !== undefined && indent > indentLevel) {
      current.options.get(option)!.push(stripped);
      return;
    }
    indentLevel = indent;
    const header = SECTION_RE.exec(stripped);
    if (header) {
      const name = header[1]!;
      if (seen.has(`[${name}]`))
        throw new ConfigError(`${source}, line ${lineno}: section [${name}] appears twice`);
      seen.add(`[${name}]`);
      if (name === DEFAULT_SECTION) current = defaults;
      else {
        current = { options: new Map() };
        raw.set(name, current);
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
    const key = match[1].trimEnd().toLowerCase();
    if (seen.has(`${currentName}\0${key}`)) {
      throw new ConfigError(
        `${source}, line ${lineno}: key "${key}" appears twice in [${currentName}]`,
      );
    }
    seen.add(`${currentName}\0${key}`);
    current.options.set(key, [match[3]!.trim()]);
    option = key;
  });

  const join = (section: RawSection) => {
    const out: Record<string, string> = {};
    for (const [key, parts] of section.options) out[key] = parts.join("\n").trimEnd();
    return out;
  };
  const rawDefaults = join(defaults);
  const rawSections = new Map<string, Record<string, string>>();
  for (const [name, section] of raw) rawSections.set(name, { ...rawDefaults, ...join(section) });

  const lookupSection = (name: string): Record<string, string> | undefined =>
    name === DEFAULT_SECTION ? rawDefaults : rawSections.get(name);

  function interpolate(
    section: string,
    key: string,
    value: string,
    depth: number,
    origin: string,
  ): string {
    if (depth > MAX_DEPTH) {
      throw new ConfigError(
        `${source}: [${origin}] interpolation is nested too deeply (a reference cycle?) at "${key}"`,
      );
    }
    let out = "";
    let rest = value;
    while (rest) {
      const p = rest.indexOf("$");
      if (p < 0) return out + rest;
      out += rest.slice(0, p);
      rest = rest.slice(p);
      const next = rest[1];
      if (next === "$") {
        out += "$";
        rest = rest.slice(2);
        continue;
      }
      const ref = /^\$\{([^}]+)\}/.exec(rest);
      if (next !== "{" || !ref) {
        throw new ConfigError(
          `${source}: [${origin}] ${key}: "$" must be followed by "$" or "{name}" (found ${JSON.stringify(rest.slice(0, 20))})`,
        );
      }
      rest = rest.slice(ref[0].length);
      const parts = ref[1]!.split(":");
      if (parts.length > 2)
        throw new ConfigError(`${source}: [${origin}] ${key}: more than one ":" in \${${ref[1]}}`);
      const [refSection, refKey] =
        parts.length === 2 ? [parts[0]!, parts[1]!] : [section, parts[0]!];
      const values = lookupSection(refSection);
      const found = values?.[refKey.toLowerCase()];
      if (found !== undefined) {
        out += found.includes("$")
          ? interpolate(refSection, refKey.toLowerCase(), found, depth + 1, origin)
          : found;
        continue;
      }
      const fromEnv = parts.length === 1 ? env[refKey] : undefined;
      if (fromEnv === undefined) {
        throw new ConfigError(
          `${source}: [${origin}] ${key}: \${${ref[1]}} is not defined ` +
            (parts.length === 1
              ? `in [${section}], [DEFAULT] or the environment`
              : `(no key "${refKey}" in [${refSection}])`),
        );
      }
      out += fromEnv;
    }
    return out;
  }

  const values: Record<string, Record<string, string>> = {};
  for (const [name, options] of rawSections) {
    values[name] = {};
    for (const [key, value] of Object.entries(options))
      values[name][key] = interpolate(name, key, value, 1, name);
  }
  const interpolatedDefaults: Record<string, string> = {};
  for (const [key, value] of Object.entries(rawDefaults)) {
    interpolatedDefaults[key] = interpolate(DEFAULT_SECTION, key, value, 1, DEFAULT_SECTION);
  }
  const ownKeys: Record<string, string[]> = {};
  for (const [name, section] of raw) ownKeys[name] = [...section.options.keys()];
  return { sections: [...rawSections.keys()], values, defaults: interpolatedDefaults, ownKeys };
}
