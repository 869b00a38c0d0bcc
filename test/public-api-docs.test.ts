/**
 * Every name the package exports is documented: for each entry point in package.json's
 * `exports` (the root `redun` and its subpaths), every exported name, followed to its
 * declaration, carries a TSDoc comment. An editor shows that comment to the workflow author.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";
import { REPO } from "./helpers/cli.ts";

interface PackageExports {
  exports: Record<string, { "redun-source"?: string } | string>;
}

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as PackageExports;
const entries = Object.entries(pkg.exports)
  .filter(([, target]) => typeof target === "object" && target["redun-source"])
  .map(([subpath, target]) => ({
    name: subpath === "." ? "redun" : `redun/${subpath.slice(2)}`,
    file: path.join(REPO, (target as { "redun-source": string })["redun-source"]),
  }));

const program = ts.createProgram(
  entries.map((e) => e.file),
  {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
  },
);
const checker = program.getTypeChecker();

/** The exported names of an entry point that have no documentation comment. */
function undocumented(file: string): { names: string[]; count: number } {
  const source = program.getSourceFile(file);
  assert.ok(source, `${file} is part of the program`);
  const module = checker.getSymbolAtLocation(source);
  assert.ok(module, `${file} is a module`);
  const exported = checker.getExportsOfModule(module);
  const names: string[] = [];
  for (const symbol of exported) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const docs = ts.displayPartsToString(target.getDocumentationComment(checker)).trim();
    if (!docs) names.push(symbol.name);
  }
  return { names: names.sort(), count: exported.length };
}

describe("the public API is documented", () => {
  it("package.json names the root and its subpaths", () => {
    assert.ok(entries.some((e) => e.name === "redun"));
  });
  for (const entry of entries) {
    it(`every name exported by ${entry.name} has a TSDoc comment`, () => {
      const { names, count } = undocumented(entry.file);
      assert.ok(count > 0, `${entry.name} exports something`);
      assert.deepEqual(names, [], `undocumented exports of ${entry.name}`);
    });
  }
});
