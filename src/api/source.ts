/**
 * Facts about functions and modules read at definition time: parameter names and the file
 * a task was defined in (workers import that file to find the task again).
 */
import { fileURLToPath } from "node:url";
import path from "node:path";

const API_DIR = path.dirname(fileURLToPath(import.meta.url));

/**
 * The absolute path of the first module on the call stack outside `src/api` (where
 * `task()` lives): the module that defined the task, a workflow's or one of the engine's
 * own. Undefined when it cannot be told (e.g. code from `eval`).
 */
export function callerModulePath(): string | undefined {
  const stack = new Error().stack ?? "";
  for (const line of stack.split("\n").slice(1)) {
    const match = /\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?\s*$/.exec(line);
    if (!match) continue;
    const file = match[1]!.startsWith("file://") ? fileURLToPath(match[1]!) : match[1]!;
    if (
      file.startsWith(API_DIR + path.sep) ||
      file.includes(`${path.sep}node_modules${path.sep}tsx${path.sep}`)
    ) {
      continue;
    }
    return file;
  }
  return undefined;
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
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < src.length; i++) {
    const c = src[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      depth--;
      if (depth === 0) return src.slice(open + 1, i);
    }
  }
  return undefined;
}

/** Splits on commas that are not nested in brackets or strings. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") depth--;
    else if (c === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}
