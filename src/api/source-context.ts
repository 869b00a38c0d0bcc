/**
 * What a workflow file's functions are read against: which local names are redun's `File`,
 * `Dir` and `getContext` (a {@link FileContext}), and `unwrap`, which sees through syntax that
 * does not change a value. Shared by the parameter reader (source-params.ts), the default-value
 * reader it calls (source-defaults.ts) and source-find.ts.
 */
import type { TS } from "./source-ts.ts";
import { typescript } from "./source-ts.ts";

/** Facts about a file that parameters are read against. */
export interface FileContext {
  source: TS.SourceFile;
  /** Local names bound to File / Dir (handles `import { File as F }`), for CLI types. */
  fileNames: Set<string>;
  dirNames: Set<string>;
  /**
   * Local names imported from redun (or a module path) for File, Dir and getContext, and
   * namespace imports of such modules: only those are trusted when binding defaults.
   */
  redunNames: Map<string, "File" | "Dir" | "getContext">;
  redunNamespaces: Set<string>;
}

/** Strips wrappers that do not change the value: parentheses, `as`, `satisfies`, `!`. */
export function unwrap(expr: TS.Expression): TS.Expression {
  const ts = typescript();
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

/**
 * Whether an import specifier may be redun: the package itself, or a path (a workflow's own
 * module re-exporting it, or redun's sources); not another package, whose `File` is not ours.
 */
function mayBeRedun(specifier: string): boolean {
  return (
    specifier === "redun" ||
    specifier.startsWith("redun/") ||
    /^(?:\.{1,2}\/|\/|file:)/.test(specifier)
  );
}

/** Reads the imports of a file once, for every function in it. */
export function fileContext(source: TS.SourceFile): FileContext {
  const ts = typescript();
  const ctx: FileContext = {
    source,
    fileNames: new Set(["File"]),
    dirNames: new Set(["Dir"]),
    redunNames: new Map(),
    redunNamespaces: new Set(),
  };
  for (const stmt of source.statements) {
    if (!ts.isImportDeclaration(stmt) || !ts.isStringLiteral(stmt.moduleSpecifier)) continue;
    const trusted = mayBeRedun(stmt.moduleSpecifier.text);
    const bindings = stmt.importClause?.namedBindings;
    if (!bindings) continue;
    if (ts.isNamespaceImport(bindings)) {
      if (trusted) ctx.redunNamespaces.add(bindings.name.text);
      continue;
    }
    for (const el of bindings.elements) {
      const imported = (el.propertyName ?? el.name).text;
      if (imported === "File") ctx.fileNames.add(el.name.text);
      if (imported === "Dir") ctx.dirNames.add(el.name.text);
      if (trusted && (imported === "File" || imported === "Dir" || imported === "getContext")) {
        ctx.redunNames.set(el.name.text, imported);
      }
    }
  }
  return ctx;
}
