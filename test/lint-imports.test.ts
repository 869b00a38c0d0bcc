/**
 * The import lint (scripts/lint-imports.mjs with .dependency-cruiser.cjs) run on two small trees
 * under test/fixtures/lint-imports: one with a type-only cycle, upward imports and a module in no
 * layer, which it must reject by rule name; one that keeps the layers, which it must accept.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SCRIPT = path.join(ROOT, "scripts", "lint-imports.mjs");
const FIXTURES = path.join(ROOT, "test", "fixtures", "lint-imports");

/** Runs the lint with `tree` as the current directory (it checks `src/` there). */
function lint(tree: string): { status: number | null; lines: string[] } {
  const result = spawnSync(process.execPath, [SCRIPT], {
    cwd: path.join(FIXTURES, tree),
    encoding: "utf8",
    // The tests run with NODE_OPTIONS naming tsx and a condition; the lint needs neither.
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  const lines = `${result.stdout}${result.stderr}`.split("\n").map((l) => l.trim());
  return { status: result.status, lines: lines.filter(Boolean) };
}

describe("import lint", () => {
  it("rejects a type-only cycle, upward imports, a module outside the layers and a repeated file name", () => {
    const { status, lines } = lint("bad");
    assert.equal(status, 1, lines.join("\n"));
    const violations = lines.filter((l) => l.startsWith("no-")).sort();
    assert.deepEqual(violations, [
      "no-duplicate-base-name: a.ts is the name of src/api/a.ts, src/values/a.ts",
      "no-import-cycle: src/api/a.ts → src/api/b.ts → src/api/a.ts",
      "no-module-outside-a-layer: src/misc/stray.ts → src/values/low.ts",
      "no-upward-import-from-api-backend-expressions-files: src/files/script.ts → src/executors/modules.ts",
      "no-upward-import-from-values-config: src/values/low.ts → src/api/high.ts",
    ]);
    assert.match(
      lines.at(-1)!,
      /^lint-imports: 4 forbidden import\(s\) and 1 repeated file name\(s\) in src\//,
    );
  });

  it("accepts imports of lower layers, of the same layer, and of the loader from the CLI", () => {
    const { status, lines } = lint("good");
    assert.equal(status, 0, lines.join("\n"));
    assert.deepEqual(
      lines.filter((l) => l.startsWith("no-")),
      [],
    );
    assert.match(lines.at(-1)!, /^lint-imports: no import cycles or upward imports in src\//);
  });
});
