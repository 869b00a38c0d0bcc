/**
 * Task signatures read from source text.
 *
 * By the time the CLI runs a task, its module has been imported with the types stripped, so
 * the function itself only tells us parameter names. To turn `--x 3` into the number `3` we
 * re-read the file that defined the task with the TypeScript parser (syntax only: no program,
 * no type checker, so it is fast and works on any file tsx can run) and map each parameter's
 * annotation, or failing that its default value, to a {@link ParamType}.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** How a CLI word is converted for a parameter. */
export type ParamType =
  | { kind: "number" }
  | { kind: "string" }
  | { kind: "boolean" }
  | { kind: "bigint" }
  | { kind: "file" }
  | { kind: "dir" }
  | { kind: "array"; element: ParamType }
  | { kind: "choice"; values: (string | number | boolean)[] }
  | { kind: "json" }
  | { kind: "unknown" };

/** One parameter of a task function, as read from its source. */
export interface ParamInfo {
  /** The parameter's name; a destructured parameter is named by position (`arg0`). */
  name: string;
  /** How CLI values are converted. A rest parameter has an `array` type. */
  type: ParamType;
  /** The annotation as written (e.g. `"fast" | "slow"`), when there is one. */
  typeText?: string;
  /** Whether the argument may be left out (`?`, a default, or a union with `undefined`). */
  optional: boolean;
  /** The default value's source text, when there is one. */
  defaultText?: string;
  /** Whether this is a rest parameter (`...xs`): its values are spread into the call. */
  rest: boolean;
}

/** How to find a task's function in its file. */
export interface SignatureLookup {
  /** The wrapped function's `fn.name` (may be empty for anonymous functions). */
  functionName?: string;
  /** The task's name, e.g. from the `name` option; a `namespace.` prefix is tolerated. */
  taskName: string;
}

type FunctionNode = ts.FunctionDeclaration | ts.FunctionExpression | ts.ArrowFunction;

interface CachedFile {
  mtimeMs: number;
  size: number;
  source: ts.SourceFile;
}

// Parsing is cheap but not free, and `redun run --help` may ask for several tasks of one file.
const cache = new Map<string, CachedFile>();

/** Forgets parsed files (for tests, or long-lived processes whose files change). */
export function clearSignatureCache(): void {
  cache.clear();
}

/**
 * Reads the parameters of a task's function from the file that defined it.
 *
 * The function is found by, in order:
 * 1. a function declaration or expression (or a variable initialised with one) whose name is
 *    `lookup.functionName`;
 * 2. a call with an object-literal argument `{ name: "<taskName>" }` whose last argument is a
 *    function, or the name of a function declared in the file;
 * 3. a variable named `taskName` (or `functionName`) initialised with a call whose last
 *    argument is a function, or the name of a function declared in the file.
 *
 * Parameters of a plain JavaScript file (no annotations) get type `unknown` unless a default
 * value or a JSDoc `@param {type}` tells more; the CLI then reads their values as JSON when
 * they parse and as strings otherwise.
 *
 * @param filePath - the module's path (a `file:` URL is accepted too).
 * @returns the parameters in order, or `undefined` when the file cannot be read or the
 *   function is not found.
 */
export function readTaskSignature(
  filePath: string,
  lookup: SignatureLookup,
): ParamInfo[] | undefined {
  const source = parseFile(filePath);
  if (!source) return undefined;
  const fn = findTaskFunction(source, lookup);
  if (!fn) return undefined;
  return describeParameters(source, fn);
}

/**
 * Parameters for a task whose signature could not be read: every one is `unknown` and
 * optional, so values are read as JSON-or-string and nothing is wrongly demanded.
 *
 * @param names - the parameter names, e.g. from `task.paramNames`.
 */
export function untypedParams(names: readonly string[]): ParamInfo[] {
  return names.map((name) => ({ name, type: { kind: "unknown" }, optional: true, rest: false }));
}

/** A short name for a type, used in help text and error messages (`number`, `string[]`). */
export function describeType(type: ParamType): string {
  switch (type.kind) {
    case "file":
      return "File";
    case "dir":
      return "Dir";
    case "array": {
      const element = describeType(type.element);
      return type.element.kind === "choice" ? `(${element})[]` : `${element}[]`;
    }
    case "choice":
      return type.values.map((v) => JSON.stringify(v)).join(" | ");
    case "json":
      return "JSON";
    default:
      return type.kind;
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing

function parseFile(filePath: string): ts.SourceFile | undefined {
  const file = filePath.startsWith("file:") ? fileURLToPath(filePath) : path.resolve(filePath);
  let stat: fs.Stats;
  let text: string;
  try {
    stat = fs.statSync(file);
    const cached = cache.get(file);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) {
      return cached.source;
    }
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const source = ts.createSourceFile(
    file,
    text,
    ts.ScriptTarget.Latest,
    /* setParentNodes */ true,
    scriptKind(file),
  );
  cache.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, source });
  return source;
}

function scriptKind(file: string): ts.ScriptKind {
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

// ---------------------------------------------------------------------------------------------
// Finding the function

function isFunctionNode(node: ts.Node): node is FunctionNode {
  return (
    ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node)
  );
}

/** Strips wrappers that do not change the value: parentheses, `as`, `satisfies`, `!`. */
function unwrap(expr: ts.Expression): ts.Expression {
  for (;;) {
    if (
      ts.isParenthesizedExpression(expr) ||
      ts.isAsExpression(expr) ||
      ts.isSatisfiesExpression(expr) ||
      ts.isNonNullExpression(expr) ||
      ts.isTypeAssertionExpression(expr)
    ) {
      expr = expr.expression;
    } else {
      return expr;
    }
  }
}

function walk(node: ts.Node, visit: (node: ts.Node) => void): void {
  visit(node);
  ts.forEachChild(node, (child) => walk(child, visit));
}

/** The name `fn.name` would report: its own name, or the variable it initialises. */
function runtimeName(fn: FunctionNode): string | undefined {
  if (fn.name) return fn.name.text;
  if (ts.isFunctionDeclaration(fn)) return undefined;
  let node: ts.Node = fn;
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

/** A function declared in the file under `name` (declaration or `const name = () => ...`). */
function functionNamed(source: ts.SourceFile, name: string): FunctionNode | undefined {
  let found: FunctionNode | undefined;
  walk(source, (node) => {
    if (found) return;
    if (ts.isFunctionDeclaration(node) && node.name?.text === name && node.body) found = node;
    else if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.name.text === name &&
      node.initializer
    ) {
      const init = unwrap(node.initializer);
      if (isFunctionNode(init)) found = init;
    }
  });
  return found;
}

/** The function passed as a call's last argument, inline or by name. */
function lastArgFunction(source: ts.SourceFile, call: ts.CallExpression): FunctionNode | undefined {
  const last = call.arguments[call.arguments.length - 1];
  if (!last) return undefined;
  const arg = unwrap(last);
  if (isFunctionNode(arg)) return arg;
  if (ts.isIdentifier(arg)) return functionNamed(source, arg.text);
  return undefined;
}

function stringValue(expr: ts.Expression): string | undefined {
  const e = unwrap(expr);
  return ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) ? e.text : undefined;
}

/** Whether an object literal has `name: "<one of names>"`. */
function hasNameOption(obj: ts.ObjectLiteralExpression, names: readonly string[]): boolean {
  return obj.properties.some((p) => {
    if (!ts.isPropertyAssignment(p)) return false;
    const key = ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) ? p.name.text : undefined;
    if (key !== "name") return false;
    const value = stringValue(p.initializer);
    return value !== undefined && names.includes(value);
  });
}

function findTaskFunction(
  source: ts.SourceFile,
  lookup: SignatureLookup,
): FunctionNode | undefined {
  // The CLI may hand us a full name; the `name` option holds only the last part.
  const taskNames = [lookup.taskName];
  const dot = lookup.taskName.lastIndexOf(".");
  if (dot >= 0) taskNames.push(lookup.taskName.slice(dot + 1));

  // Gather every route in one pass so ambiguous by-name matches can be settled by the others.
  const byFunctionName: FunctionNode[] = [];
  const byNameOption: FunctionNode[] = [];
  const byVariable: FunctionNode[] = [];
  const variableNames = lookup.functionName ? [...taskNames, lookup.functionName] : taskNames;

  walk(source, (node) => {
    if (lookup.functionName && isFunctionNode(node) && node.body) {
      if (runtimeName(node) === lookup.functionName) byFunctionName.push(node);
    }
    if (ts.isCallExpression(node)) {
      const named = node.arguments.some(
        (a) =>
          ts.isObjectLiteralExpression(unwrap(a)) &&
          hasNameOption(unwrap(a) as ts.ObjectLiteralExpression, taskNames),
      );
      if (named) {
        const fn = lastArgFunction(source, node);
        if (fn) byNameOption.push(fn);
      }
    }
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      variableNames.includes(node.name.text) &&
      node.initializer
    ) {
      const init = unwrap(node.initializer);
      if (ts.isCallExpression(init)) {
        const fn = lastArgFunction(source, init);
        if (fn) byVariable.push(fn);
      }
    }
  });

  if (byFunctionName.length === 1) return byFunctionName[0];
  if (byFunctionName.length > 1) {
    // Two functions share the name (e.g. nested helpers): prefer the one the task wraps.
    return (
      byFunctionName.find((fn) => byNameOption.includes(fn) || byVariable.includes(fn)) ??
      byFunctionName[0]
    );
  }
  return byNameOption[0] ?? byVariable[0];
}

// ---------------------------------------------------------------------------------------------
// Parameters and types

interface Context {
  source: ts.SourceFile;
  /** Local names bound to redun's File / Dir (handles `import { File as F }`). */
  fileNames: Set<string>;
  dirNames: Set<string>;
  /** Type aliases being expanded, to stop on recursive aliases. */
  expanding: Set<string>;
}

interface Mapped {
  type: ParamType;
  /** The type admits `undefined` or `null`. */
  nullable: boolean;
}

function describeParameters(source: ts.SourceFile, fn: FunctionNode): ParamInfo[] {
  const ctx: Context = {
    source,
    fileNames: new Set(["File"]),
    dirNames: new Set(["Dir"]),
    expanding: new Set(),
  };
  for (const stmt of source.statements) {
    if (!ts.isImportDeclaration(stmt)) continue;
    const bindings = stmt.importClause?.namedBindings;
    if (!bindings || !ts.isNamedImports(bindings)) continue;
    for (const el of bindings.elements) {
      const imported = (el.propertyName ?? el.name).text;
      if (imported === "File") ctx.fileNames.add(el.name.text);
      if (imported === "Dir") ctx.dirNames.add(el.name.text);
    }
  }

  // A TypeScript `this` parameter is erased at run time, so it takes no position.
  const params = fn.parameters.filter((p) => !(ts.isIdentifier(p.name) && p.name.text === "this"));
  return params.map((p, index) => describeParameter(ctx, p, index));
}

function describeParameter(ctx: Context, p: ts.ParameterDeclaration, index: number): ParamInfo {
  const rest = p.dotDotDotToken !== undefined;
  const destructured = !ts.isIdentifier(p.name);
  const name = ts.isIdentifier(p.name) ? p.name.text : `arg${index}`;
  // JSDoc `@param {T}` is how plain JS files say types; annotations win when both exist.
  const typeNode = p.type ?? ts.getJSDocType(p) ?? jsDocTypeFromHost(p);

  let mapped: Mapped;
  if (destructured) {
    mapped = { type: { kind: "json" }, nullable: false };
  } else if (typeNode) {
    mapped = mapType(ctx, typeNode);
  } else if (p.initializer) {
    mapped = { type: typeOfDefault(p.initializer), nullable: false };
  } else {
    mapped = { type: { kind: "unknown" }, nullable: false };
  }

  let type = mapped.type;
  if (rest && type.kind !== "array") {
    // `...xs: [number, string]` or an unannotated rest: the elements' types are not simple.
    type = {
      kind: "array",
      element: type.kind === "json" || type.kind === "unknown" ? type : { kind: "unknown" },
    };
  }

  const info: ParamInfo = {
    name,
    type,
    optional:
      rest || p.questionToken !== undefined || p.initializer !== undefined || mapped.nullable,
    rest,
  };
  if (typeNode) info.typeText = typeNode.getText(ctx.source);
  if (p.initializer) info.defaultText = p.initializer.getText(ctx.source);
  return info;
}

/**
 * The `@param {T} name` type from a JSDoc comment above the statement holding the task call:
 * `/** @param {number} n *\/ export const t = task(function t(n) {...})`. TypeScript itself
 * only looks at comments attached to the function, which here is a call argument.
 */
function jsDocTypeFromHost(p: ts.ParameterDeclaration): ts.TypeNode | undefined {
  if (!ts.isIdentifier(p.name)) return undefined;
  const name = p.name.text;
  let node: ts.Node = p.parent;
  while (node.parent && !ts.isSourceFile(node.parent) && !ts.isBlock(node.parent)) {
    node = node.parent;
    if (
      ts.isVariableStatement(node) ||
      ts.isExpressionStatement(node) ||
      ts.isExportAssignment(node)
    ) {
      for (const tag of ts.getJSDocTags(node)) {
        if (
          ts.isJSDocParameterTag(tag) &&
          ts.isIdentifier(tag.name) &&
          tag.name.text === name &&
          tag.typeExpression
        ) {
          return tag.typeExpression.type;
        }
      }
      return undefined;
    }
  }
  return undefined;
}

/** The type suggested by a default value's literal kind. */
function typeOfDefault(init: ts.Expression): ParamType {
  const e = unwrap(init);
  if (ts.isNumericLiteral(e)) return { kind: "number" };
  if (
    ts.isPrefixUnaryExpression(e) &&
    (e.operator === ts.SyntaxKind.MinusToken || e.operator === ts.SyntaxKind.PlusToken)
  ) {
    if (ts.isNumericLiteral(e.operand)) return { kind: "number" };
    if (ts.isBigIntLiteral(e.operand)) return { kind: "bigint" };
  }
  if (
    ts.isStringLiteral(e) ||
    ts.isNoSubstitutionTemplateLiteral(e) ||
    ts.isTemplateExpression(e)
  ) {
    return { kind: "string" };
  }
  if (e.kind === ts.SyntaxKind.TrueKeyword || e.kind === ts.SyntaxKind.FalseKeyword) {
    return { kind: "boolean" };
  }
  if (ts.isBigIntLiteral(e)) return { kind: "bigint" };
  if (ts.isArrayLiteralExpression(e) || ts.isObjectLiteralExpression(e)) return { kind: "json" };
  return { kind: "unknown" };
}

const plain = (type: ParamType): Mapped => ({ type, nullable: false });

function mapType(ctx: Context, node: ts.TypeNode): Mapped {
  switch (node.kind) {
    case ts.SyntaxKind.NumberKeyword:
      return plain({ kind: "number" });
    case ts.SyntaxKind.StringKeyword:
      return plain({ kind: "string" });
    case ts.SyntaxKind.BooleanKeyword:
      return plain({ kind: "boolean" });
    case ts.SyntaxKind.BigIntKeyword:
      return plain({ kind: "bigint" });
    case ts.SyntaxKind.ObjectKeyword:
      return plain({ kind: "json" });
    case ts.SyntaxKind.UndefinedKeyword:
    case ts.SyntaxKind.VoidKeyword:
      return { type: { kind: "unknown" }, nullable: true };
    case ts.SyntaxKind.AnyKeyword:
    case ts.SyntaxKind.UnknownKeyword:
    // JSDoc `{*}` and `{?}`.
    case ts.SyntaxKind.JSDocAllType:
    case ts.SyntaxKind.JSDocUnknownType:
      return plain({ kind: "unknown" });
  }
  if (ts.isParenthesizedTypeNode(node)) return mapType(ctx, node.type);
  if (ts.isJSDocNullableType(node) || ts.isJSDocOptionalType(node)) {
    return { type: mapType(ctx, node.type).type, nullable: true };
  }
  if (ts.isJSDocNonNullableType(node)) return plain(mapType(ctx, node.type).type);
  if (ts.isTemplateLiteralTypeNode(node)) return plain({ kind: "string" });
  if (ts.isLiteralTypeNode(node)) return mapLiteral(node.literal);
  if (ts.isArrayTypeNode(node)) {
    return plain({ kind: "array", element: mapType(ctx, node.elementType).type });
  }
  if (ts.isTypeOperatorNode(node) && node.operator === ts.SyntaxKind.ReadonlyKeyword) {
    return mapType(ctx, node.type);
  }
  if (ts.isUnionTypeNode(node)) return mapUnion(ctx, node);
  if (ts.isTypeReferenceNode(node)) return mapReference(ctx, node);
  // Object literal types, tuples, mapped types, intersections...: passed as JSON.
  return plain({ kind: "json" });
}

function mapLiteral(literal: ts.LiteralTypeNode["literal"]): Mapped {
  if (literal.kind === ts.SyntaxKind.NullKeyword)
    return { type: { kind: "unknown" }, nullable: true };
  if (literal.kind === ts.SyntaxKind.TrueKeyword) return plain({ kind: "choice", values: [true] });
  if (literal.kind === ts.SyntaxKind.FalseKeyword)
    return plain({ kind: "choice", values: [false] });
  if (ts.isStringLiteral(literal) || ts.isNoSubstitutionTemplateLiteral(literal)) {
    return plain({ kind: "choice", values: [literal.text] });
  }
  if (ts.isNumericLiteral(literal))
    return plain({ kind: "choice", values: [Number(literal.text)] });
  if (
    ts.isPrefixUnaryExpression(literal) &&
    literal.operator === ts.SyntaxKind.MinusToken &&
    ts.isNumericLiteral(literal.operand)
  ) {
    return plain({ kind: "choice", values: [-Number(literal.operand.text)] });
  }
  if (ts.isBigIntLiteral(literal)) return plain({ kind: "bigint" });
  return plain({ kind: "json" });
}

const PRIMITIVE_KINDS = new Set<ParamType["kind"]>([
  "number",
  "string",
  "boolean",
  "bigint",
  "choice",
]);

function mapUnion(ctx: Context, node: ts.UnionTypeNode): Mapped {
  let nullable = false;
  const members: ParamType[] = [];
  for (const t of node.types) {
    const m = mapType(ctx, t);
    if (m.nullable) nullable = true;
    // `undefined` / `null` members only make the parameter optional.
    if (m.nullable && m.type.kind === "unknown" && isNullish(t)) continue;
    members.push(m.type);
  }
  if (members.length === 0) return { type: { kind: "unknown" }, nullable };
  if (members.length === 1) return { type: members[0]!, nullable };

  // A union of literals (and `boolean`, which is `true | false`) is a choice.
  if (members.every((m) => m.kind === "choice" || m.kind === "boolean")) {
    const values: (string | number | boolean)[] = [];
    for (const m of members) {
      for (const v of m.kind === "choice" ? m.values : [true, false]) {
        if (!values.includes(v)) values.push(v);
      }
    }
    const onlyBooleans = values.length === 2 && values.includes(true) && values.includes(false);
    return { type: onlyBooleans ? { kind: "boolean" } : { kind: "choice", values }, nullable };
  }
  // Mixed primitives (`number | string`): JSON-or-string reads "3" as 3 and "abc" as "abc",
  // which is friendlier than demanding quoted JSON.
  if (members.every((m) => PRIMITIVE_KINDS.has(m.kind) || m.kind === "unknown")) {
    return { type: { kind: "unknown" }, nullable };
  }
  if (members.some((m) => m.kind === "unknown")) return { type: { kind: "unknown" }, nullable };
  return { type: { kind: "json" }, nullable };
}

function isNullish(node: ts.TypeNode): boolean {
  return (
    node.kind === ts.SyntaxKind.UndefinedKeyword ||
    node.kind === ts.SyntaxKind.VoidKeyword ||
    (ts.isLiteralTypeNode(node) && node.literal.kind === ts.SyntaxKind.NullKeyword)
  );
}

function mapReference(ctx: Context, node: ts.TypeReferenceNode): Mapped {
  // `redun.File` and `File` alike: only the last part of a qualified name matters.
  const name = ts.isIdentifier(node.typeName) ? node.typeName.text : node.typeName.right.text;
  const qualified = !ts.isIdentifier(node.typeName);
  if (ctx.fileNames.has(name) || (qualified && name === "File")) return plain({ kind: "file" });
  if (ctx.dirNames.has(name) || (qualified && name === "Dir")) return plain({ kind: "dir" });
  if (name === "Array" || name === "ReadonlyArray") {
    const arg = node.typeArguments?.[0];
    return plain({ kind: "array", element: arg ? mapType(ctx, arg).type : { kind: "unknown" } });
  }
  if (!qualified && !node.typeArguments) {
    const resolved = resolveLocalType(ctx, name);
    if (resolved) return resolved;
  }
  return plain({ kind: "json" });
}

/** Follows a type alias or enum declared in the same file (syntax only, no checker). */
function resolveLocalType(ctx: Context, name: string): Mapped | undefined {
  if (ctx.expanding.has(name)) return undefined;
  for (const stmt of ctx.source.statements) {
    if (ts.isTypeAliasDeclaration(stmt) && stmt.name.text === name && !stmt.typeParameters) {
      ctx.expanding.add(name);
      try {
        return mapType(ctx, stmt.type);
      } finally {
        ctx.expanding.delete(name);
      }
    }
    if (ts.isEnumDeclaration(stmt) && stmt.name.text === name) {
      // Only enums with explicit literal values are offered as choices.
      const values: (string | number)[] = [];
      for (const member of stmt.members) {
        const init = member.initializer && unwrap(member.initializer);
        if (init && ts.isStringLiteral(init)) values.push(init.text);
        else if (init && ts.isNumericLiteral(init)) values.push(Number(init.text));
        else return plain({ kind: "json" });
      }
      return plain({ kind: "choice", values });
    }
  }
  return undefined;
}
