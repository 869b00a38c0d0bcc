/**
 * Glob patterns, matched the same way on local paths and on URIs (`s3://bucket/a/*.txt`),
 * so one small matcher serves every filesystem (a library that walks local disks could not
 * match S3 keys).
 *
 * - `*` any characters within one path segment, `?` one character;
 * - `**` as a whole segment: any number of segments (`a/**` everything beneath `a`);
 * - `[abc]`, `[a-z]`, `[!abc]` character classes; `{a,b}` alternatives (may nest);
 * - `\` escapes the next character;
 * - wildcards do not match a segment that starts with `.` unless the pattern spells the dot.
 */

const MAGIC = /[*?[{]/;

/** Whether a pattern has wildcards (otherwise it names one path). */
export function hasMagic(pattern: string): boolean {
  return MAGIC.test(pattern.replace(/\\./g, ""));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** The index of the `}` closing the `{` at `open`, or -1. */
function closingBrace(pattern: string, open: number): number {
  let depth = 0;
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) return i;
  }
  return -1;
}

/** Splits the inside of `{...}` on its top-level commas. */
function splitAlternatives(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "\\") i++;
    else if (c === "{") depth++;
    else if (c === "}") depth--;
    else if (c === "," && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

/** Regular-expression source for a pattern; `atSegmentStart` tells what precedes it. */
function translate(pattern: string, atSegmentStart: boolean): string {
  let out = "";
  let segmentStart = atSegmentStart;
  const noDot = "(?!\\.)";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*" && pattern[i + 1] === "*") {
      const after = pattern[i + 2];
      if (segmentStart && (after === "/" || after === undefined)) {
        if (after === "/") {
          // `**/`: zero or more whole segments.
          out += `(?:${noDot}[^/]*/)*`;
          i += 2;
          segmentStart = true;
        } else {
          // Trailing `**`: one or more segments.
          out += `${noDot}[^/]*(?:/${noDot}[^/]*)*`;
          i += 1;
          segmentStart = false;
        }
        continue;
      }
      // `**` inside a segment is a plain `*`.
      out += (segmentStart ? noDot : "") + "[^/]*";
      i += 1;
      segmentStart = false;
      continue;
    }
    switch (c) {
      case "*":
        out += (segmentStart ? noDot : "") + "[^/]*";
        break;
      case "?":
        out += (segmentStart ? noDot : "") + "[^/]";
        break;
      case "\\":
        if (i + 1 < pattern.length) out += escapeRegExp(pattern[++i]!);
        else out += "\\\\";
        break;
      case "[": {
        const close = pattern.indexOf("]", i + 2);
        if (close < 0) {
          out += "\\[";
          break;
        }
        let body = pattern.slice(i + 1, close);
        const negate = body.startsWith("!") || body.startsWith("^");
        if (negate) body = body.slice(1);
        body = body.replace(/[\\\]^]/g, "\\$&");
        out += (segmentStart ? noDot : "") + (negate ? `[^/${body}]` : `(?!/)[${body}]`);
        i = close;
        break;
      }
      case "{": {
        const close = closingBrace(pattern, i);
        if (close < 0) {
          out += "\\{";
          break;
        }
        const alternatives = splitAlternatives(pattern.slice(i + 1, close));
        out += `(?:${alternatives.map((a) => translate(a, segmentStart)).join("|")})`;
        i = close;
        break;
      }
      default:
        out += escapeRegExp(c);
    }
    segmentStart = c === "/";
  }
  return out;
}

/** A regular expression matching whole paths against a glob pattern. */
export function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${translate(pattern, true)}$`);
}

/** Whether a path matches a glob pattern. */
export function matchGlob(pattern: string, path: string): boolean {
  return globToRegExp(pattern).test(path);
}

/**
 * The literal directory a pattern starts from, and how many segments below it a match can
 * be (`Infinity` with `**` or a `/` inside braces):
 * `data/in/*.txt` → `{ base: "data/in", depth: 1 }`; `s3://b/k/**` → `{ base: "s3://b/k", depth: Infinity }`.
 */
export function globBase(pattern: string): { base: string; depth: number } {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/]*/.exec(pattern)?.[0] ?? "";
  const rest = pattern.slice(scheme.length);
  const segments = rest.split("/");
  let literal = 0;
  while (literal < segments.length - 1 && !hasMagic(segments[literal]!)) literal++;
  const remaining = segments.slice(literal);
  const base = scheme + segments.slice(0, literal).join("/");
  const unbounded = remaining.some(
    (s) => s.includes("**") || (s.includes("{") && !s.includes("}")),
  );
  return { base, depth: unbounded ? Infinity : remaining.length };
}
