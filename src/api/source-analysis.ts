/**
 * Finds a task's function in the file that defined it and returns its normalized source and
 * parameters (see source-find.ts), from the disk cache when the file has not changed. Used by
 * the task hash, by default-argument binding and by `redun run`'s argument parsing. Never
 * throws: when the file cannot be read or the function is not found, the function's own
 * run-time text is analysed instead, and failing that hashed as it is.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { analysisKey, cachedAnalysis, clearMemoryCache } from "./source-cache.ts";
import {
  ANALYZER_VERSION,
  analyzeFunctionText,
  analyzeSource,
  type FileAnalysis,
  type FunctionAnalysis,
} from "./source-find.ts";
import type { ParamInfo, TaskParam } from "./source-params.ts";
import { parameterNames } from "./source.ts";

export type { FunctionAnalysis } from "./source-find.ts";

/** How to find a task's function in its file by name. */
export interface SignatureLookup {
  /** The wrapped function's `fn.name` (may be empty for anonymous functions). */
  functionName?: string;
  /** The task's name, e.g. from the `name` option; a `namespace.` prefix is tolerated. */
  taskName: string;
}

/** Where a task was defined: its module file and the position of the `task(...)` call. */
export interface DefinitionSite {
  file: string;
  line: number;
  column: number;
}

/** A task function's analysis, and how its function was found. */
export interface TaskAnalysis extends Partial<FunctionAnalysis> {
  /** The normalized source (or, when nothing could be parsed, the run-time text). */
  source: string;
  /** The parameters, unless nothing could be parsed. */
  params?: TaskParam[];
  /** `position` (the call site), `name` (a name heuristic), `text` (fn.toString()), `none`. */
  found: "position" | "name" | "text" | "none";
}

interface Snapshot {
  mtimeMs: number;
  size: number;
  text: string;
}

// The text of each module file as it was when its tasks were defined, so that an analysis done
// later (lazily) reads the code that is running even if the file was edited since.
const snapshots = new Map<string, Snapshot>();

/** Reads (or recalls) a module file's text; undefined when it cannot be read. */
export function snapshotFile(file: string): string | undefined {
  try {
    const stat = fs.statSync(file);
    const known = snapshots.get(file);
    if (known && known.mtimeMs === stat.mtimeMs && known.size === stat.size) return known.text;
    const text = fs.readFileSync(file, "utf8");
    snapshots.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, text });
    return text;
  } catch {
    return undefined;
  }
}

/** The analysis of a file's text, cached by content (loads TypeScript only on a miss). */
function fileAnalysis(file: string, text: string): FileAnalysis | undefined {
  const ext = path.extname(file).toLowerCase();
  try {
    return cachedAnalysis(analysisKey(["file", ANALYZER_VERSION, ext], text), () =>
      analyzeSource(file, text),
    );
  } catch {
    return undefined;
  }
}

/** The analysis of a function's run-time text, cached likewise. */
function textAnalysis(text: string): FunctionAnalysis | undefined {
  try {
    return (
      cachedAnalysis(
        analysisKey(["fn", ANALYZER_VERSION], text),
        () => analyzeFunctionText(text) ?? null,
      ) ?? undefined
    );
  } catch {
    return undefined;
  }
}

function lookupIn(table: [string, number[]][], names: readonly string[]): number[] {
  const out: number[] = [];
  for (const [name, indexes] of table) {
    if (names.includes(name)) for (const i of indexes) if (!out.includes(i)) out.push(i);
  }
  return out;
}

/**
 * Finds a function by name, in order:
 * 1. a function declaration or expression (or a variable initialised with one) whose name is
 *    `lookup.functionName`;
 * 2. a call with an object-literal argument `{ name: "<taskName>" }` whose last argument is a
 *    function, or the name of a function declared in the file;
 * 3. a variable named `taskName` (or `functionName`) initialised with a call whose last
 *    argument is a function, or the name of a function declared in the file.
 */
function findByName(analysis: FileAnalysis, lookup: SignatureLookup): number | undefined {
  // The CLI may hand us a full name; the `name` option holds only the last part.
  const taskNames = [lookup.taskName];
  const dot = lookup.taskName.lastIndexOf(".");
  if (dot >= 0) taskNames.push(lookup.taskName.slice(dot + 1));
  const variableNames = lookup.functionName ? [...taskNames, lookup.functionName] : taskNames;
  const byFunctionName = lookup.functionName
    ? lookupIn(analysis.byFunctionName, [lookup.functionName])
    : [];
  const byNameOption = lookupIn(analysis.byNameOption, taskNames);
  const byVariable = lookupIn(analysis.byVariable, variableNames);
  if (byFunctionName.length === 1) return byFunctionName[0];
  if (byFunctionName.length > 1) {
    // Two functions share the name (e.g. nested helpers): prefer the one the task wraps.
    return (
      byFunctionName.find((i) => byNameOption.includes(i) || byVariable.includes(i)) ??
      byFunctionName[0]
    );
  }
  return byNameOption[0] ?? byVariable[0];
}

/**
 * Whether an analysed function has the parameters the running function has. The compiler
 * renames a parameter that shadows a name it must keep reachable, by appending a number
 * (`function opts(opts)` in `export const opts = task(...)` runs as `function opts(opts2)`):
 * such a name still fits the one written.
 */
function fits(fn: Function, analysed: FunctionAnalysis): boolean {
  const names = parameterNames(fn);
  return (
    names.length === analysed.params.length &&
    names.every((name, i) => {
      const written = analysed.params[i]!.info.name;
      return (
        name === written || (name.startsWith(written) && /^\d+$/.test(name.slice(written.length)))
      );
    })
  );
}

/**
 * Analyses a task's function: the function passed to the `task(...)` call at `site`, else one
 * found by name in the same file, else the function's run-time text. A candidate whose
 * parameter names differ from the running function's is not taken.
 */
export function analyzeTask(
  fn: Function,
  site: Partial<DefinitionSite> & { text?: string },
  lookup: SignatureLookup,
): TaskAnalysis {
  const text = site.text ?? (site.file ? snapshotFile(site.file) : undefined);
  const analysis = site.file && text !== undefined ? fileAnalysis(site.file, text) : undefined;
  if (analysis) {
    if (site.line !== undefined && site.column !== undefined) {
      const key = `${site.line}:${site.column}`;
      const entry = analysis.calls.find(([k]) => k === key);
      const candidate = entry && analysis.functions[entry[1]];
      if (candidate && fits(fn, candidate)) return { ...candidate, found: "position" };
    }
    const index = findByName(analysis, lookup);
    const candidate = index === undefined ? undefined : analysis.functions[index];
    if (candidate && fits(fn, candidate)) return { ...candidate, found: "name" };
  }
  const own = textAnalysis(fn.toString());
  if (own) return { ...own, found: "text" };
  return { source: fn.toString(), found: "none" };
}

/**
 * Reads the parameters of a task's function from the file that defined it (found by name, see
 * {@link analyzeTask}), from the cache when the file has not changed.
 *
 * Parameters of a plain JavaScript file (no annotations) get type `unknown` unless a default
 * value or a JSDoc `@param {type}` tells more.
 *
 * @param filePath - the module's path (a `file:` URL is accepted too).
 * @returns the parameters in order, or `undefined` when the file cannot be read or the
 *   function is not found.
 */
export function readTaskSignature(
  filePath: string,
  lookup: SignatureLookup,
): ParamInfo[] | undefined {
  const file = filePath.startsWith("file:") ? fileURLToPath(filePath) : path.resolve(filePath);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const analysis = fileAnalysis(file, text);
  if (!analysis) return undefined;
  const index = findByName(analysis, lookup);
  const found = index === undefined ? undefined : analysis.functions[index];
  return found?.params.map((p) => p.info);
}

/** Forgets analyses and file snapshots held in memory (the disk cache stays). */
export function clearSourceAnalyses(): void {
  clearMemoryCache();
  snapshots.clear();
}
