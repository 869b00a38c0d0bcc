/**
 * A task function's parameters as read from its syntax tree: how the CLI converts a word for
 * each one (its {@link ParamType}) and what its default value is (a {@link DefaultDescriptor}
 * the scheduler binds into every call). Syntax only: no program, no type checker.
 */
import type { TS } from "./source-ts.ts";
import { typescript } from "./source-ts.ts";
import { describeDefault, type DefaultDescriptor } from "./source-defaults.ts";
import { unwrap, type FileContext } from "./source-context.ts";
import { jsonShape, type JsonShape } from "./source-shapes.ts";

export type { JsonShape } from "./source-shapes.ts";

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
  /** JSON; `shape`, when the annotation says one, is what the value must look like. */
  | { kind: "json"; shape?: JsonShape }
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

/** A parameter with its default value, as the scheduler binds it. */
export interface TaskParam {
  info: ParamInfo;
  default: DefaultDescriptor;
}

/** A function node the analysis understands. */
export type FunctionNode = TS.FunctionDeclaration | TS.FunctionExpression | TS.ArrowFunction;

/** The parameters of a function, with a TypeScript `this` parameter left out. */
export function describeParameters(ctx: FileContext, fn: FunctionNode): TaskParam[] {
  const ts = typescript();
  // A TypeScript `this` parameter is erased at run time, so it takes no position.
  const params = fn.parameters.filter((p) => !(ts.isIdentifier(p.name) && p.name.text === "this"));
  const earlier: string[] = [];
  return params.map((p, index) => {
    const info = describeParameter(ctx, p, index);
    const dflt: DefaultDescriptor = p.initializer
      ? describeDefault(ctx, p.initializer, earlier)
      : { kind: "none" };
    earlier.push(info.name);
    return { info, default: dflt };
  });
}

interface Mapped {
  type: ParamType;
  /** The type admits `undefined` or `null`. */
  nullable: boolean;
}

function describeParameter(ctx: FileContext, p: TS.ParameterDeclaration, index: number): ParamInfo {
  const ts = typescript();
  const rest = p.dotDotDotToken !== undefined;
  const destructured = !ts.isIdentifier(p.name);
  const name = ts.isIdentifier(p.name) ? p.name.text : `arg${index}`;
  // JSDoc `@param {T}` is how plain JS files say types; annotations win when both exist.
  const typeNode = p.type ?? ts.getJSDocType(p) ?? jsDocTypeFromHost(p);

  let mapped: Mapped;
  if (destructured) {
    mapped = { type: typeNode ? json(ctx, typeNode) : { kind: "json" }, nullable: false };
  } else if (typeNode) {
    mapped = mapType(ctx, typeNode, new Set());
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
function jsDocTypeFromHost(p: TS.ParameterDeclaration): TS.TypeNode | undefined {
  const ts = typescript();
  if (!ts.isIdentifier(p.name)) return undefined;
  const name = p.name.text;
  let node: TS.Node = p.parent;
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
function typeOfDefault(init: TS.Expression): ParamType {
  const ts = typescript();
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

/** JSON, with the shape the annotation gives when it says anything. */
function json(ctx: FileContext, node: TS.TypeNode): ParamType {
  const shape = jsonShape(ctx, node);
  return shape.kind === "any" ? { kind: "json" } : { kind: "json", shape };
}

/** Maps a type annotation; `expanding` holds the local aliases being followed (recursion stop). */
function mapType(ctx: FileContext, node: TS.TypeNode, expanding: Set<string>): Mapped {
  const ts = typescript();
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
  if (ts.isParenthesizedTypeNode(node)) return mapType(ctx, node.type, expanding);
  if (ts.isJSDocNullableType(node) || ts.isJSDocOptionalType(node)) {
    return { type: mapType(ctx, node.type, expanding).type, nullable: true };
  }
  if (ts.isJSDocNonNullableType(node)) return plain(mapType(ctx, node.type, expanding).type);
  if (ts.isTemplateLiteralTypeNode(node)) return plain({ kind: "string" });
  if (ts.isLiteralTypeNode(node)) return mapLiteral(node.literal);
  if (ts.isArrayTypeNode(node)) {
    return plain({ kind: "array", element: mapType(ctx, node.elementType, expanding).type });
  }
  if (ts.isTypeOperatorNode(node) && node.operator === ts.SyntaxKind.ReadonlyKeyword) {
    return mapType(ctx, node.type, expanding);
  }
  if (ts.isUnionTypeNode(node)) return mapUnion(ctx, node, expanding);
  if (ts.isTypeReferenceNode(node)) return mapReference(ctx, node, expanding);
  // Object literal types, tuples, mapped types, intersections...: passed as JSON.
  return plain(json(ctx, node));
}

function mapLiteral(literal: TS.LiteralTypeNode["literal"]): Mapped {
  const ts = typescript();
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

function mapUnion(ctx: FileContext, node: TS.UnionTypeNode, expanding: Set<string>): Mapped {
  const mapped = mapUnionKind(ctx, node, expanding);
  if (mapped.type.kind !== "json") return mapped;
  // `{a: string} | [number, number] | null`: the shape of the whole union.
  return { ...mapped, type: json(ctx, node) };
}

function mapUnionKind(ctx: FileContext, node: TS.UnionTypeNode, expanding: Set<string>): Mapped {
  let nullable = false;
  const members: ParamType[] = [];
  for (const t of node.types) {
    const m = mapType(ctx, t, expanding);
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

function isNullish(node: TS.TypeNode): boolean {
  const ts = typescript();
  return (
    node.kind === ts.SyntaxKind.UndefinedKeyword ||
    node.kind === ts.SyntaxKind.VoidKeyword ||
    (ts.isLiteralTypeNode(node) && node.literal.kind === ts.SyntaxKind.NullKeyword)
  );
}

function mapReference(
  ctx: FileContext,
  node: TS.TypeReferenceNode,
  expanding: Set<string>,
): Mapped {
  const ts = typescript();
  // `redun.File` and `File` alike: only the last part of a qualified name matters.
  const name = ts.isIdentifier(node.typeName) ? node.typeName.text : node.typeName.right.text;
  const qualified = !ts.isIdentifier(node.typeName);
  if (ctx.fileNames.has(name) || (qualified && name === "File")) return plain({ kind: "file" });
  if (ctx.dirNames.has(name) || (qualified && name === "Dir")) return plain({ kind: "dir" });
  if (name === "Array" || name === "ReadonlyArray") {
    const arg = node.typeArguments?.[0];
    return plain({
      kind: "array",
      element: arg ? mapType(ctx, arg, expanding).type : { kind: "unknown" },
    });
  }
  if (!qualified && !node.typeArguments) {
    const resolved = resolveLocalType(ctx, name, expanding);
    if (resolved) return resolved;
  }
  return plain(json(ctx, node));
}

/** Follows a type alias or enum declared in the same file (syntax only, no checker). */
function resolveLocalType(
  ctx: FileContext,
  name: string,
  expanding: Set<string>,
): Mapped | undefined {
  const ts = typescript();
  if (expanding.has(name)) return undefined;
  for (const stmt of ctx.source.statements) {
    if (ts.isTypeAliasDeclaration(stmt) && stmt.name.text === name && !stmt.typeParameters) {
      expanding.add(name);
      try {
        return mapType(ctx, stmt.type, expanding);
      } finally {
        expanding.delete(name);
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
