/**
 * Parameter default values read from source: which ones the scheduler can bind into a call
 * (literals, `new File("...")`, `getContext("a.b", 1)`), which ones follow from earlier
 * arguments, and which ones it cannot see (those get a warning: they are not in the cache key).
 */
import type { TS } from "./source-ts.ts";
import { typescript } from "./source-ts.ts";
import { unwrap, type FileContext } from "./source-context.ts";

/**
 * A literal value in JSON form: plain JSON for finite numbers, strings, booleans and null;
 * tagged objects for what JSON lacks, so a cached analysis round-trips through a JSON file.
 */
export type LiteralTree =
  | null
  | boolean
  | string
  | number
  | { undefined: true }
  /** A number JSON cannot hold: `Infinity`, `-0`. */
  | { number: string }
  | { bigint: string }
  | { array: LiteralTree[] }
  | { object: [string, LiteralTree][] };

/**
 * What a parameter's default is, as far as the scheduler is concerned:
 * - `none`: no default;
 * - `value`: a literal (or array/object of literals), bound as an ordinary argument;
 * - `file` / `dir`: `new File(path, options?)` / `new Dir(...)` of literals, bound likewise;
 * - `context`: `getContext(path, default?)`, bound as a "context" scheduler expression;
 * - `derived`: computed from earlier parameters only (`out = input + ".out"`), which are in the
 *   cache key already: left to the function;
 * - `opaque`: anything else (a module variable, a call): left to the function, with a warning.
 */
export type DefaultDescriptor =
  | { kind: "none" }
  | { kind: "value"; value: LiteralTree }
  | { kind: "file" | "dir"; path: string; options?: LiteralTree }
  | { kind: "context"; path: string; default: LiteralTree }
  | { kind: "derived"; text: string }
  | { kind: "opaque"; text: string };

const NOT_LITERAL = Symbol("not a literal");

/** Classifies a parameter's initializer; `earlier` names the parameters before it. */
export function describeDefault(
  ctx: FileContext,
  init: TS.Expression,
  earlier: readonly string[],
): DefaultDescriptor {
  const ts = typescript();
  const text = init.getText(ctx.source);
  const literal = literalTree(init);
  if (literal !== NOT_LITERAL) return { kind: "value", value: literal };
  const e = unwrap(init);
  if (ts.isNewExpression(e)) {
    const cls = redunName(ctx, e.expression);
    const args = e.arguments ?? [];
    if ((cls === "File" || cls === "Dir") && args.length >= 1 && args.length <= 2) {
      const filePath = literalTree(args[0]!);
      const options = args[1] === undefined ? undefined : literalTree(args[1]);
      if (typeof filePath === "string" && options !== NOT_LITERAL) {
        const kind = cls === "File" ? "file" : "dir";
        return options === undefined ? { kind, path: filePath } : { kind, path: filePath, options };
      }
    }
  } else if (ts.isCallExpression(e) && redunName(ctx, e.expression) === "getContext") {
    const args = e.arguments;
    if (args.length >= 1 && args.length <= 2) {
      const dotted = literalTree(args[0]!);
      const fallback: LiteralTree | typeof NOT_LITERAL =
        args[1] === undefined ? { undefined: true } : literalTree(args[1]);
      if (typeof dotted === "string" && fallback !== NOT_LITERAL) {
        return { kind: "context", path: dotted, default: fallback };
      }
    }
  }
  if (derivedFrom(e, earlier)) return { kind: "derived", text };
  return { kind: "opaque", text };
}

/** Turns a literal tree into a fresh value (a fresh array/object on every call). */
export function literalValue(tree: LiteralTree): unknown {
  if (tree === null || typeof tree !== "object") return tree;
  if ("undefined" in tree) return undefined;
  if ("number" in tree) return Number(tree.number);
  if ("bigint" in tree) return BigInt(tree.bigint);
  if ("array" in tree) return tree.array.map(literalValue);
  const obj: Record<string, unknown> = {};
  for (const [key, value] of tree.object) obj[key] = literalValue(value);
  return obj;
}

/** Whether a default binds to `undefined` (which leaves the argument as it is). */
export function isUndefinedLiteral(tree: LiteralTree): boolean {
  return tree !== null && typeof tree === "object" && "undefined" in tree;
}

/** The name an expression has among the trusted redun imports (`File`, `redun.Dir`, …). */
function redunName(ctx: FileContext, expr: TS.Expression): string | undefined {
  const ts = typescript();
  const e = unwrap(expr);
  if (ts.isIdentifier(e)) return ctx.redunNames.get(e.text);
  if (
    ts.isPropertyAccessExpression(e) &&
    ts.isIdentifier(e.expression) &&
    ctx.redunNamespaces.has(e.expression.text) &&
    ["File", "Dir", "getContext"].includes(e.name.text)
  ) {
    return e.name.text;
  }
  return undefined;
}

function numberTree(n: number): LiteralTree {
  return Number.isFinite(n) && !Object.is(n, -0)
    ? n
    : { number: String(Object.is(n, -0) ? "-0" : n) };
}

/** The literal tree of an expression, or NOT_LITERAL. */
function literalTree(expr: TS.Expression): LiteralTree | typeof NOT_LITERAL {
  const ts = typescript();
  const e = unwrap(expr);
  if (ts.isNumericLiteral(e)) return numberTree(Number(e.text));
  if (ts.isBigIntLiteral(e)) return { bigint: BigInt(e.text.slice(0, -1)).toString() };
  if (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) return e.text;
  if (
    ts.isPrefixUnaryExpression(e) &&
    (e.operator === ts.SyntaxKind.MinusToken || e.operator === ts.SyntaxKind.PlusToken)
  ) {
    const operand = unwrap(e.operand);
    const minus = e.operator === ts.SyntaxKind.MinusToken;
    if (ts.isNumericLiteral(operand)) {
      const n = Number(operand.text);
      return numberTree(minus ? -n : n);
    }
    if (ts.isBigIntLiteral(operand) && minus) {
      return { bigint: (-BigInt(operand.text.slice(0, -1))).toString() };
    }
    return NOT_LITERAL;
  }
  switch (e.kind) {
    case ts.SyntaxKind.TrueKeyword:
      return true;
    case ts.SyntaxKind.FalseKeyword:
      return false;
    case ts.SyntaxKind.NullKeyword:
      return null;
  }
  if (ts.isIdentifier(e) && e.text === "undefined") return { undefined: true };
  if (ts.isVoidExpression(e) && literalTree(e.expression) !== NOT_LITERAL) {
    return { undefined: true };
  }
  if (ts.isArrayLiteralExpression(e)) {
    const items: LiteralTree[] = [];
    for (const el of e.elements) {
      // A spread or a hole (`[1, , 2]`) is left to the function.
      if (ts.isSpreadElement(el) || ts.isOmittedExpression(el)) return NOT_LITERAL;
      const item = literalTree(el);
      if (item === NOT_LITERAL) return NOT_LITERAL;
      items.push(item);
    }
    return { array: items };
  }
  if (ts.isObjectLiteralExpression(e)) {
    const entries: [string, LiteralTree][] = [];
    for (const p of e.properties) {
      if (!ts.isPropertyAssignment(p)) return NOT_LITERAL;
      const key =
        ts.isIdentifier(p.name) || ts.isStringLiteral(p.name) || ts.isNumericLiteral(p.name)
          ? p.name.text
          : undefined;
      // `__proto__: x` sets the prototype rather than a key.
      if (key === undefined || key === "__proto__") return NOT_LITERAL;
      const value = literalTree(p.initializer);
      if (value === NOT_LITERAL) return NOT_LITERAL;
      entries.push([key, value]);
    }
    return { object: entries };
  }
  return NOT_LITERAL;
}

/**
 * Whether an expression reads nothing but earlier parameters and literals, with no calls or
 * assignments: its value then follows from arguments that are in the cache key already.
 */
function derivedFrom(node: TS.Expression, earlier: readonly string[]): boolean {
  const ts = typescript();
  const pure = (n: TS.Expression): boolean => derivedFrom(n, earlier);
  const e = unwrap(node);
  if (ts.isIdentifier(e)) return earlier.includes(e.text) || e.text === "undefined";
  if (literalTree(e) !== NOT_LITERAL) return true;
  if (ts.isTemplateExpression(e)) return e.templateSpans.every((s) => pure(s.expression));
  if (ts.isPropertyAccessExpression(e)) return pure(e.expression);
  if (ts.isElementAccessExpression(e)) return pure(e.expression) && pure(e.argumentExpression);
  if (ts.isBinaryExpression(e)) {
    const op = e.operatorToken.kind;
    const assignment = op >= ts.SyntaxKind.FirstAssignment && op <= ts.SyntaxKind.LastAssignment;
    return !assignment && pure(e.left) && pure(e.right);
  }
  if (ts.isPrefixUnaryExpression(e)) {
    const op = e.operator;
    return (
      op !== ts.SyntaxKind.PlusPlusToken && op !== ts.SyntaxKind.MinusMinusToken && pure(e.operand)
    );
  }
  if (ts.isTypeOfExpression(e)) return pure(e.expression);
  if (ts.isConditionalExpression(e)) {
    return pure(e.condition) && pure(e.whenTrue) && pure(e.whenFalse);
  }
  if (ts.isArrayLiteralExpression(e)) {
    return e.elements.every((el) =>
      ts.isOmittedExpression(el) ? true : ts.isSpreadElement(el) ? pure(el.expression) : pure(el),
    );
  }
  if (ts.isObjectLiteralExpression(e)) {
    return e.properties.every((p) => {
      if (ts.isPropertyAssignment(p)) {
        if (ts.isComputedPropertyName(p.name) && !pure(p.name.expression)) return false;
        return pure(p.initializer);
      }
      if (ts.isShorthandPropertyAssignment(p)) return earlier.includes(p.name.text);
      if (ts.isSpreadAssignment(p)) return pure(p.expression);
      return false;
    });
  }
  return false;
}
