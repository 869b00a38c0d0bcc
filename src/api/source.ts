/**
 * Facts about functions and modules read at definition time without parsing: parameter names,
 * whether a default needs a closer look, and where a task was defined (workers import that file
 * to find the task again; source-analysis.ts reads the function from it).
 */
import { fileURLToPath } from "node:url";
import path from "node:path";
import { CODE_DIR, COMPILED } from "../values/package-root.ts";

/**
 * Where `task()` and its helpers live: src/api. Compiled, redun's modules share bundled files
 * (scripts/build.mjs), so there every frame in dist/ counts as theirs.
 */
const API_DIR = COMPILED ? CODE_DIR : path.join(CODE_DIR, "api");

/** A position in a module file (line and column 1-based, as in stack traces). */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/**
 * The position of the first frame on the call stack outside `src/api` (where `task()` lives):
 * the `task(...)` call that defines a task, in a workflow's module or one of the engine's own.
 * Compiled, the engine's own tasks (defined at the top level of its modules) get the outermost
 * frame: the top level of the bundled file that holds the `task(...)` call.
 * Under tsx the positions are those of the TypeScript file (it enables source maps); Node's
 * own type stripping keeps positions as they are. Undefined when it cannot be told (e.g. code
 * from `eval`).
 */
export function callerPosition(): SourcePosition | undefined {
  const frames = stackFrames().filter(
    ({ file }) => !file.includes(`${path.sep}node_modules${path.sep}tsx${path.sep}`),
  );
  const outside = frames.find(({ file }) => !file.startsWith(API_DIR + path.sep));
  // The innermost two are this function and task(): with no frame beyond, no caller to tell.
  return outside ?? (COMPILED && frames.length > 2 ? frames.at(-1) : undefined);
}

/**
 * The frames of the current call stack that are in files (not Node's own `node:` modules,
 * not `eval`), innermost first, without this function's own.
 */
export function stackFrames(): SourcePosition[] {
  const frames: SourcePosition[] = [];
  for (const line of (new Error().stack ?? "").split("\n").slice(2)) {
    // `at fn (/path/file.ts:1:2)` or `at /path/file.ts:1:2`; never `node:internal/...`.
    const match = /(?:\(|at )((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?\s*$/.exec(line);
    if (!match) continue;
    const file = match[1]!.startsWith("file://") ? fileURLToPath(match[1]!) : match[1]!;
    frames.push({ file, line: Number(match[2]), column: Number(match[3]) });
  }
  return frames;
}

/**
 * The absolute path of the first module on the call stack outside `src/api` (where
 * `task()` lives): the module that defined the task, a workflow's or one of the engine's
 * own. Undefined when it cannot be told (e.g. code from `eval`).
 */
export function callerModulePath(): string | undefined {
  return callerPosition()?.file;
}

// A default whose compiled text is one of these needs no analysis to know it is bindable.
const NUMBER = String.raw`-?(?:0[xXoObB][\da-fA-F_]+n?|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?n?)`;
const STRING = String.raw`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`;
const SIMPLE_DEFAULT = new RegExp(
  `^(?:${NUMBER}|${STRING}|true|false|null|undefined|\\[\\]|\\{\\})$`,
);

/**
 * Whether a function has a parameter default that is not a simple literal, read from its
 * run-time text: only such a default may need a warning at definition (see task.ts), so only
 * then is the source analysed eagerly.
 */
export function hasComplexDefault(fn: Function): boolean {
  const list = parameterListText(fn.toString());
  if (list === undefined) return false;
  return splitTopLevel(list).some((p) => {
    const eq = topLevelEquals(p);
    return eq >= 0 && !SIMPLE_DEFAULT.test(p.slice(eq + 1).trim());
  });
}

/** The index of a parameter's default `=` (not `==`, `=>`, or inside brackets or strings). */
function topLevelEquals(param: string): number {
  return scanTopLevel(param, 0, (c, i, depth) => {
    if (c !== "=" || depth !== 0) return false;
    const next = param[i + 1];
    const prev = param[i - 1];
    return next !== "=" && next !== ">" && !["=", "!", "<", ">"].includes(prev ?? "");
  });
}

/**
 * Parameter names of a function, in order, read from its source text. A destructured
 * parameter is named by its position (`arg0`); a rest parameter by its name.
 */
export function parameterNames(fn: Function): string[] {
  const src = fn.toString();
  const list = parameterListText(src);
  if (list === undefined) return [];
  return splitTopLevel(list)
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((p, i) => {
      const name = /^(?:\.\.\.)?\s*([A-Za-z_$][\w$]*)/.exec(p);
      return name ? name[1]! : `arg${i}`;
    });
}

/** The text between a function's parameter parentheses (or an arrow's lone parameter). */
function parameterListText(src: string): string | undefined {
  const arrowSingle = /^(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(src);
  if (arrowSingle) return arrowSingle[1];
  const open = src.indexOf("(");
  if (open < 0) return undefined;
  const close = scanTopLevel(src, open, (c, _i, depth) => depth === 1 && ")]}".includes(c));
  return close < 0 ? undefined : src.slice(open + 1, close);
}

/** Splits on commas that are not nested in brackets or strings. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let start = 0;
  scanTopLevel(text, 0, (c, i, depth) => {
    if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
    return false;
  });
  parts.push(text.slice(start));
  return parts;
}

/**
 * Walks `text` from `start`, skipping string literals, and calls `visit` with every other
 * character and the bracket depth before it, until `visit` returns true.
 * @returns the index where `visit` returned true, or -1.
 */
function scanTopLevel(
  text: string,
  start: number,
  visit: (c: string, i: number, depth: number) => boolean,
): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      quote = c;
      continue;
    }
    if (visit(c, i, depth)) return i;
    if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
  }
  return -1;
}
