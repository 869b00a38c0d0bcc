/**
 * The normalized source of a function: the tokens of its syntax tree joined by single spaces,
 * so comments, whitespace, line breaks, quote style, optional semicolons, trailing commas and
 * parentheses around a lone arrow parameter do not count. Type annotations are kept: they
 * decide how `redun run` parses CLI arguments, so they are part of a task's behaviour.
 */
import type { TS } from "./source-ts.ts";
import { typescript } from "./source-ts.ts";

/** Statements (and members) whose closing `;` may be left to ASI or written as `,`. */
function terminatedKinds(ts: typeof TS): Set<TS.SyntaxKind> {
  const k = ts.SyntaxKind;
  return new Set([
    k.ExpressionStatement,
    k.VariableStatement,
    k.ReturnStatement,
    k.ThrowStatement,
    k.BreakStatement,
    k.ContinueStatement,
    k.DoStatement,
    k.DebuggerStatement,
    k.ImportDeclaration,
    k.ExportDeclaration,
    k.ExportAssignment,
    k.TypeAliasDeclaration,
    k.PropertyDeclaration,
    k.PropertySignature,
    k.MethodSignature,
    k.IndexSignature,
    k.CallSignature,
    k.ConstructSignature,
  ]);
}

let terminated: Set<TS.SyntaxKind> | undefined;

/** The normalized source of a node (a function, usually). */
export function normalizeNode(node: TS.Node, source: TS.SourceFile): string {
  const ts = typescript();
  terminated ??= terminatedKinds(ts);
  const tokens: string[] = [];
  emit(ts, node, source, tokens);
  // A comma right before a closing bracket is a trailing comma: a formatter's choice.
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const next = tokens[i + 1];
    if (tokens[i] === "," && (next === ")" || next === "]" || next === "}")) continue;
    out.push(tokens[i]!);
  }
  return out.join(" ");
}

function emit(ts: typeof TS, node: TS.Node, source: TS.SourceFile, out: string[]): void {
  if (node.kind >= ts.SyntaxKind.FirstJSDocNode && node.kind <= ts.SyntaxKind.LastJSDocNode) {
    return;
  }
  const children = node.getChildren(source);
  if (children.length === 0) {
    // An empty list (`()`'s parameters) is a child with no text.
    const text = node.kind === ts.SyntaxKind.SyntaxList ? "" : tokenText(ts, node, source);
    if (text !== "") out.push(text);
    return;
  }
  const endsStatement = terminated!.has(node.kind);
  let last = children.length;
  if (endsStatement) {
    const final = children[last - 1]!;
    if (final.kind === ts.SyntaxKind.SemicolonToken || final.kind === ts.SyntaxKind.CommaToken) {
      last--;
    }
  }
  // `x => x` and `(x) => x` are one function.
  const bareArrowParam =
    ts.isArrowFunction(node) && !children.some((c) => c.kind === ts.SyntaxKind.OpenParenToken);
  for (let i = 0; i < last; i++) {
    const child = children[i]!;
    const wrap =
      bareArrowParam &&
      child.kind === ts.SyntaxKind.SyntaxList &&
      (node as TS.ArrowFunction).parameters.length > 0 &&
      child.pos <= (node as TS.ArrowFunction).parameters[0]!.pos &&
      (node as TS.ArrowFunction).parameters[0]!.end <= child.end;
    if (wrap) out.push("(");
    emit(ts, child, source, out);
    if (wrap) out.push(")");
  }
  if (endsStatement) out.push(";");
}

function tokenText(ts: typeof TS, node: TS.Node, source: TS.SourceFile): string {
  // `'a'` and `"a"` are one string; `0xff` and `255` one number.
  if (ts.isStringLiteral(node)) {
    // `{ "a": 1 }` and `{ a: 1 }` are one object.
    const parent = node.parent;
    const isKey =
      parent !== undefined &&
      (ts.isPropertyAssignment(parent) || ts.isPropertySignature(parent)) &&
      parent.name === node;
    if (isKey && /^[A-Za-z_$][\w$]*$/.test(node.text)) return node.text;
    return JSON.stringify(node.text);
  }
  if (ts.isNumericLiteral(node)) return node.text;
  return node.getText(source);
}
