/**
 * The shape a JSON parameter's type annotation promises (`{a: string}`, `[number, string]`,
 * `Opts[]`), read from the syntax tree so that `redun run` can check a JSON argument against
 * it before the task runs. Syntax only: type aliases and interfaces declared in the same file
 * are followed; anything the reader cannot be sure of (imported types, generics,
 * intersections, mapped or conditional types) is `any`, which accepts every value, so a
 * value is only ever refused when its type clearly excludes it.
 */
import type { TS } from "./source-ts.ts";
import { typescript } from "./source-ts.ts";
import { unwrap, type FileContext } from "./source-context.ts";

/** What a JSON value must look like. Plain data, so it can be cached with the analysis. */
export type JsonShape =
  | { kind: "any" }
  | { kind: "string" }
  | { kind: "number" }
  | { kind: "boolean" }
  /** `null` and `undefined` (a missing property, or `null` in JSON). */
  | { kind: "null" }
  | { kind: "literal"; value: string | number | boolean }
  | { kind: "array"; element: JsonShape }
  | {
      kind: "tuple";
      elements: JsonShape[];
      /** How many leading elements are required. */
      required: number;
      /** The type of further elements (`...T[]`), if any may follow. */
      rest?: JsonShape;
    }
  | {
      kind: "object";
      fields: { name: string; shape: JsonShape; optional: boolean }[];
      /** An index signature's value type: other keys are allowed with this shape. */
      rest?: JsonShape;
    }
  | { kind: "union"; members: JsonShape[] };

const ANY: JsonShape = { kind: "any" };
/** How deep a shape is read (a guard against huge or self-referring annotations). */
const MAX_DEPTH = 32;

/** The JSON shape of a type annotation (`any` where it cannot be told from the syntax). */
export function jsonShape(ctx: FileContext, node: TS.TypeNode): JsonShape {
  return shapeOf(ctx, node, new Set(), 0);
}

function shapeOf(
  ctx: FileContext,
  node: TS.TypeNode,
  expanding: Set<string>,
  depth: number,
): JsonShape {
  const ts = typescript();
  if (depth > MAX_DEPTH) return ANY;
  const next = (n: TS.TypeNode) => shapeOf(ctx, n, expanding, depth + 1);
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { kind: "string" };
    case ts.SyntaxKind.NumberKeyword:
      return { kind: "number" };
    case ts.SyntaxKind.BooleanKeyword:
      return { kind: "boolean" };
    case ts.SyntaxKind.NullKeyword:
    case ts.SyntaxKind.UndefinedKeyword:
    case ts.SyntaxKind.VoidKeyword:
      return { kind: "null" };
  }
  if (ts.isParenthesizedTypeNode(node)) return next(node.type);
  if (ts.isTypeOperatorNode(node) && node.operator === ts.SyntaxKind.ReadonlyKeyword) {
    return next(node.type);
  }
  if (ts.isLiteralTypeNode(node)) return literalShape(node.literal);
  if (ts.isTemplateLiteralTypeNode(node)) return { kind: "string" };
  if (ts.isArrayTypeNode(node)) return { kind: "array", element: next(node.elementType) };
  if (ts.isTupleTypeNode(node)) return tupleShape(node, next);
  if (ts.isUnionTypeNode(node)) return union(node.types.map(next));
  if (ts.isTypeLiteralNode(node)) return membersShape(node.members, next);
  if (ts.isTypeReferenceNode(node)) return referenceShape(ctx, node, expanding, depth);
  return ANY;
}

function literalShape(literal: TS.LiteralTypeNode["literal"]): JsonShape {
  const ts = typescript();
  if (literal.kind === ts.SyntaxKind.NullKeyword) return { kind: "null" };
  if (literal.kind === ts.SyntaxKind.TrueKeyword) return { kind: "literal", value: true };
  if (literal.kind === ts.SyntaxKind.FalseKeyword) return { kind: "literal", value: false };
  if (ts.isStringLiteral(literal) || ts.isNoSubstitutionTemplateLiteral(literal)) {
    return { kind: "literal", value: literal.text };
  }
  if (ts.isNumericLiteral(literal)) return { kind: "literal", value: Number(literal.text) };
  if (
    ts.isPrefixUnaryExpression(literal) &&
    literal.operator === ts.SyntaxKind.MinusToken &&
    ts.isNumericLiteral(literal.operand)
  ) {
    return { kind: "literal", value: -Number(literal.operand.text) };
  }
  return ANY;
}

/** A union; `any` absorbs it, nested unions are flattened. */
function union(members: JsonShape[]): JsonShape {
  const flat: JsonShape[] = [];
  for (const m of members) {
    if (m.kind === "any") return ANY;
    if (m.kind === "union") flat.push(...m.members);
    else flat.push(m);
  }
  return flat.length === 1 ? flat[0]! : { kind: "union", members: flat };
}

function tupleShape(node: TS.TupleTypeNode, next: (n: TS.TypeNode) => JsonShape): JsonShape {
  const ts = typescript();
  const elements: JsonShape[] = [];
  let required = 0;
  let rest: JsonShape | undefined;
  let optionalSeen = false;
  for (const raw of node.elements) {
    let el: TS.TypeNode = raw;
    let optional = false;
    let spread = false;
    if (ts.isNamedTupleMember(el)) {
      optional = el.questionToken !== undefined;
      spread = el.dotDotDotToken !== undefined;
      el = el.type;
    }
    if (ts.isOptionalTypeNode(el)) {
      optional = true;
      el = el.type;
    }
    if (ts.isRestTypeNode(el)) {
      spread = true;
      el = el.type;
    }
    if (spread) {
      // Only a trailing `...T[]` is followed; a rest in the middle is not.
      if (rest !== undefined) return ANY;
      const shape = next(el);
      if (shape.kind !== "array") return ANY;
      rest = shape.element;
      continue;
    }
    if (rest !== undefined) return ANY;
    elements.push(next(el));
    if (optional) optionalSeen = true;
    else if (!optionalSeen) required++;
  }
  return rest === undefined
    ? { kind: "tuple", elements, required }
    : { kind: "tuple", elements, required, rest };
}

/** An object type from property signatures (and at most an index signature). */
function membersShape(
  members: readonly TS.TypeElement[],
  next: (n: TS.TypeNode) => JsonShape,
): JsonShape {
  const ts = typescript();
  const fields: { name: string; shape: JsonShape; optional: boolean }[] = [];
  let rest: JsonShape | undefined;
  for (const member of members) {
    if (ts.isPropertySignature(member)) {
      const name = member.name;
      let key: string;
      if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name)) {
        key = name.text;
      } else {
        return ANY; // a computed key
      }
      const shape = member.type ? next(member.type) : ANY;
      const optional = member.questionToken !== undefined || admitsNull(shape);
      fields.push({ name: key, shape, optional });
    } else if (ts.isIndexSignatureDeclaration(member) && member.type) {
      rest = rest === undefined ? next(member.type) : ANY;
    } else {
      // Methods, call or construct signatures: not a plain JSON object type.
      return ANY;
    }
  }
  return rest === undefined ? { kind: "object", fields } : { kind: "object", fields, rest };
}

function admitsNull(shape: JsonShape): boolean {
  return (
    shape.kind === "null" ||
    shape.kind === "any" ||
    (shape.kind === "union" && shape.members.some(admitsNull))
  );
}

function referenceShape(
  ctx: FileContext,
  node: TS.TypeReferenceNode,
  expanding: Set<string>,
  depth: number,
): JsonShape {
  const ts = typescript();
  if (!ts.isIdentifier(node.typeName)) return ANY;
  const name = node.typeName.text;
  const args = node.typeArguments ?? [];
  const next = (n: TS.TypeNode) => shapeOf(ctx, n, expanding, depth + 1);
  if ((name === "Array" || name === "ReadonlyArray") && args.length === 1) {
    return { kind: "array", element: next(args[0]!) };
  }
  if (name === "Record" && args.length === 2)
    return { kind: "object", fields: [], rest: next(args[1]!) };
  if (args.length > 0 || expanding.has(name)) return ANY;
  for (const stmt of ctx.source.statements) {
    if (ts.isTypeAliasDeclaration(stmt) && stmt.name.text === name) {
      if (stmt.typeParameters) return ANY;
      return expand(name, expanding, () => shapeOf(ctx, stmt.type, expanding, depth + 1));
    }
    if (ts.isInterfaceDeclaration(stmt) && stmt.name.text === name) {
      // Interfaces may be merged or extend others: only a single plain one is followed.
      const declarations = ctx.source.statements.filter(
        (s) => ts.isInterfaceDeclaration(s) && s.name.text === name,
      );
      if (declarations.length > 1 || stmt.typeParameters || stmt.heritageClauses) return ANY;
      return expand(name, expanding, () => membersShape(stmt.members, next));
    }
    if (ts.isEnumDeclaration(stmt) && stmt.name.text === name) {
      const values: JsonShape[] = [];
      for (const member of stmt.members) {
        const init = member.initializer && unwrap(member.initializer);
        if (init && ts.isStringLiteral(init)) values.push({ kind: "literal", value: init.text });
        else if (init && ts.isNumericLiteral(init)) {
          values.push({ kind: "literal", value: Number(init.text) });
        } else return ANY;
      }
      return values.length === 0 ? ANY : union(values);
    }
  }
  return ANY;
}

function expand(name: string, expanding: Set<string>, fn: () => JsonShape): JsonShape {
  expanding.add(name);
  try {
    return fn();
  } finally {
    expanding.delete(name);
  }
}
