/**
 * One parse of a module file: every function that a call takes as its last argument (where
 * `task(...)` calls are), indexed by the call's position and by the names the CLI and the
 * fallbacks look functions up by, each with its normalized source and parameters. The result is
 * plain JSON, so source-cache.ts can keep it on disk.
 */
import path from "node:path";
import type { TS } from "./source-ts.ts";
import { typescript } from "./source-ts.ts";
import { normalizeNode } from "./source-normalize.ts";
import { describeParameters, type FunctionNode, type TaskParam } from "./source-params.ts";
import { fileContext, unwrap, type FileContext } from "./source-context.ts";

/**
 * Bump when the analysis changes: it is part of every cache key, so stale entries are not read.
 * (A change to the normalization also changes task hashes, and so reruns every task.)
 */
export const ANALYZER_VERSION = 2;

/** A function's normalized source and parameters. */
export interface FunctionAnalysis {
  source: string;
  params: TaskParam[];
}

/** Everything one parse of a file tells about the task functions in it. */
export interface FileAnalysis {
  version: number;
  functions: FunctionAnalysis[];
  /** `line:column` (1-based) of a call's callee name, or of the call, → function index. */
  calls: [string, number][];
  /** A function's run-time name (`fn.name`) → function indexes. */
  byFunctionName: [string, number[]][];
  /** The `name` option of a call (`task({ name: "x" }, fn)`) → function indexes. */
  byNameOption: [string, number[]][];
  /** A variable initialised with a call taking a function (`const x = task(fn)`) → indexes. */
  byVariable: [string, number[]][];
}

/** How a file's text is parsed, by its extension. */
export function scriptKind(file: string): TS.ScriptKind {
  const ts = typescript();
  switch (path.extname(file).toLowerCase()) {
    case ".tsx":
      return ts.ScriptKind.TSX;
    case ".jsx":
      return ts.ScriptKind.JSX;
    case ".js":
    case ".mjs":
    case ".cjs":
      return ts.ScriptKind.JS;
    default:
      // .ts, .mts, .cts, and anything unexpected (tsx treats it as TypeScript too).
      return ts.ScriptKind.TS;
  }
}

function isFunctionNode(node: TS.Node): node is FunctionNode {
  const ts = typescript();
  return (
    ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node)
  );
}

function walk(node: TS.Node, visit: (node: TS.Node) => void): void {
  visit(node);
  typescript().forEachChild(node, (child) => walk(child, visit));
}

/** The name `fn.name` would report: its own name, or the variable it initialises. */
function runtimeName(fn: FunctionNode): string | undefined {
  const ts = typescript();
  if (fn.name) return fn.name.text;
  if (ts.isFunctionDeclaration(fn)) return undefined;
  let node: TS.Node = fn;
  while (
    node.parent &&
    (ts.isParenthesizedExpression(node.parent) ||
      ts.isAsExpression(node.parent) ||
      ts.isSatisfiesExpression(node.parent))
  ) {
    node = node.parent;
  }
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent) && parent.initializer === node) {
    return ts.isIdentifier(parent.name) ? parent.name.text : undefined;
  }
  return undefined;
}

/** Functions declared in the file by name (`function f` or `const f = () => ...`), first wins. */
function declaredFunctions(source: TS.SourceFile): Map<string, FunctionNode> {
  const ts = typescript();
  const found = new Map<string, FunctionNode>();
  walk(source, (node) => {
    if (ts.isFunctionDeclaration(node) && node.name && node.body) {
      if (!found.has(node.name.text)) found.set(node.name.text, node);
    } else if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) {
      const init = unwrap(node.initializer);
      if (isFunctionNode(init) && !found.has(node.name.text)) found.set(node.name.text, init);
    }
  });
  return found;
}

/** The `name: "..."` of an object-literal argument of a call, if any. */
function nameOption(call: TS.CallExpression): string | undefined {
  const ts = typescript();
  for (const a of call.arguments) {
    const arg = unwrap(a);
    if (!ts.isObjectLiteralExpression(arg)) continue;
    for (const p of arg.properties) {
      if (!ts.isPropertyAssignment(p)) continue;
      const key = ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) ? p.name.text : undefined;
      if (key !== "name") continue;
      const value = unwrap(p.initializer);
      if (ts.isStringLiteral(value) || ts.isNoSubstitutionTemplateLiteral(value)) return value.text;
    }
  }
  return undefined;
}

/** Appends to a name → indexes table. */
function add(table: Map<string, number[]>, name: string, index: number): void {
  const list = table.get(name);
  if (!list) table.set(name, [index]);
  else if (!list.includes(index)) list.push(index);
}

/** Parses a file's text and indexes its task-like functions. */
export function analyzeSource(fileName: string, text: string): FileAnalysis {
  const ts = typescript();
  const source = ts.createSourceFile(
    fileName,
    text,
    ts.ScriptTarget.Latest,
    /* setParentNodes */ true,
    scriptKind(fileName),
  );
  const ctx = fileContext(source);
  const declared = declaredFunctions(source);
  const indexes = new Map<FunctionNode, number>();
  const functions: FunctionAnalysis[] = [];
  const indexOf = (fn: FunctionNode): number => {
    let i = indexes.get(fn);
    if (i === undefined) {
      i = functions.length;
      indexes.set(fn, i);
      functions.push(analyzeFunction(ctx, fn));
    }
    return i;
  };
  const lastArgFunction = (call: TS.CallExpression): FunctionNode | undefined => {
    const last = call.arguments[call.arguments.length - 1];
    if (!last) return undefined;
    const arg = unwrap(last);
    if (isFunctionNode(arg)) return arg;
    if (ts.isIdentifier(arg)) return declared.get(arg.text);
    return undefined;
  };
  const position = (pos: number): string => {
    const { line, character } = source.getLineAndCharacterOfPosition(pos);
    return `${line + 1}:${character + 1}`;
  };

  const calleeKeys = new Map<string, number>();
  const callKeys = new Map<string, number>();
  const byFunctionName = new Map<string, number[]>();
  const byNameOption = new Map<string, number[]>();
  const byVariable = new Map<string, number[]>();

  walk(source, (node) => {
    if (isFunctionNode(node) && node.body) {
      const name = runtimeName(node);
      if (name) add(byFunctionName, name, indexOf(node));
    }
    if (ts.isCallExpression(node)) {
      const fn = lastArgFunction(node);
      if (!fn) return;
      const index = indexOf(fn);
      // V8 reports a call's position at the callee's name (`task` in `ns.task(...)`).
      const callee = unwrap(node.expression);
      const nameNode = ts.isPropertyAccessExpression(callee) ? callee.name : callee;
      const calleeKey = position(nameNode.getStart(source));
      if (!calleeKeys.has(calleeKey)) calleeKeys.set(calleeKey, index);
      const callKey = position(node.getStart(source));
      if (!callKeys.has(callKey)) callKeys.set(callKey, index);
      const option = nameOption(node);
      if (option !== undefined) add(byNameOption, option, index);
      let up: TS.Node = node;
      while (
        up.parent &&
        ts.isExpression(up.parent) &&
        unwrap(up.parent as TS.Expression) === node
      ) {
        up = up.parent;
      }
      const parent = up.parent;
      if (
        parent &&
        ts.isVariableDeclaration(parent) &&
        parent.initializer === up &&
        ts.isIdentifier(parent.name)
      ) {
        add(byVariable, parent.name.text, index);
      }
    }
  });
  for (const [key, index] of callKeys) if (!calleeKeys.has(key)) calleeKeys.set(key, index);
  return {
    version: ANALYZER_VERSION,
    functions,
    calls: [...calleeKeys],
    byFunctionName: [...byFunctionName],
    byNameOption: [...byNameOption],
    byVariable: [...byVariable],
  };
}

function analyzeFunction(ctx: FileContext, fn: FunctionNode): FunctionAnalysis {
  return { source: normalizeNode(fn, ctx.source), params: describeParameters(ctx, fn) };
}

/**
 * Analyzes a function from its run-time text (`fn.toString()`), for functions with no file
 * to read (defined by `eval`, in a REPL): the compiled JavaScript, so no types.
 */
export function analyzeFunctionText(text: string): FunctionAnalysis | undefined {
  const ts = typescript();
  // A method's text (`f(a) {}`) is not an expression on its own, but is inside an object.
  for (const wrapped of [`(${text})`, `({${text}})`]) {
    const source = ts.createSourceFile(
      "fn.js",
      wrapped,
      ts.ScriptTarget.Latest,
      true,
      ts.ScriptKind.JS,
    );
    if ((source as unknown as { parseDiagnostics: unknown[] }).parseDiagnostics?.length) continue;
    let found: TS.Node | undefined;
    walk(source, (node) => {
      if (!found && (isFunctionNode(node) || ts.isMethodDeclaration(node))) found = node;
    });
    if (found) {
      const ctx = fileContext(source);
      return {
        source: normalizeNode(found, source),
        params: describeParameters(ctx, found as FunctionNode),
      };
    }
  }
  return undefined;
}
