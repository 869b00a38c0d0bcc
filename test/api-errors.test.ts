/**
 * Every error class the package exports (root and subpaths) is a `RedunError` with a stable
 * code of its own, `REDUN_…`, listed in the README; an instance keeps it across threads.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, it } from "node:test";
import * as redun from "../src/index.ts";
import { RedunError } from "../src/index.ts";
import { decodeValue, encodeValue } from "../src/values/serialize.ts";
import { REPO } from "./helpers/cli.ts";

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as {
  exports: Record<string, { "redun-source"?: string } | string>;
};

async function exportedErrorClasses(): Promise<Map<string, new (...args: any[]) => Error>> {
  const classes = new Map<string, new (...args: any[]) => Error>();
  for (const target of Object.values(pkg.exports)) {
    if (typeof target !== "object" || !target["redun-source"]) continue;
    const module = (await import(
      pathToFileURL(path.join(REPO, target["redun-source"])).href
    )) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) {
      if (typeof value === "function" && value.prototype instanceof Error) {
        classes.set(name, value as new (...args: any[]) => Error);
      }
    }
  }
  return classes;
}

describe("redun's errors", () => {
  it("are RedunErrors with a code of their own, each listed in the README", async () => {
    const classes = await exportedErrorClasses();
    assert.ok(classes.size >= 15, `found ${[...classes.keys()].join(", ")}`);
    const readme = fs.readFileSync(path.join(REPO, "README.md"), "utf8");
    const codes = new Map<string, string>();
    classes.delete("RedunError");
    for (const [name, cls] of classes) {
      assert.ok(cls.prototype instanceof RedunError, `${name} extends RedunError`);
      const code = (cls.prototype as RedunError).code;
      // FileNotFoundError keeps Node's code for a missing file.
      assert.match(
        String(code),
        name === "FileNotFoundError" ? /^ENOENT$/ : /^REDUN_[A-Z_]+$/,
        `${name}.code`,
      );
      assert.ok(!codes.has(code), `${name} and ${codes.get(code)} share ${code}`);
      codes.set(code, name);
      assert.ok(readme.includes(`\`${code}\``), `the README lists ${code}`);
    }
  });

  it("keep their code and class across the wire (thread and process workers)", () => {
    const error = new redun.ConfigError("bad key");
    const back = decodeValue(encodeValue(error)) as RedunError;
    assert.ok(back instanceof redun.ConfigError);
    assert.equal(back.code, "REDUN_CONFIG");
  });
});
