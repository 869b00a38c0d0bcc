/**
 * `redun db check` on SQLite and PostgreSQL: a sound database is `ok`; provenance that
 * points at missing rows is named, with exit code 1; on SQLite a damaged file fails the
 * engine's integrity check (or cannot be read), again one report naming the file.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { before, describe, test } from "node:test";
import SQLite from "better-sqlite3";
import { useBackendProjects, type Project } from "./helpers/backend.ts";
import { REPO } from "./helpers/cli.ts";

const FLOW = path.join(REPO, "test", "fixtures", "workflows", "backend-flow.ts");

for (const dialect of ["sqlite", "postgresql"] as const) {
  describe(`[${dialect}] redun db check`, () => {
    const backends = useBackendProjects();
    let p: Project;

    before(async () => {
      p = await backends.project(dialect);
      const run = p.redun(["run", FLOW, "main", "--x", "2"]);
      assert.equal(run.code, 0, run.stderr);
    });

    test("a sound database is ok", () => {
      const check = p.redun(["db", "check"]);
      assert.equal(check.code, 0, check.stderr);
      assert.match(check.stdout, /: ok \(/);
      assert.match(check.stdout, /evaluations whose value is missing/);
      if (dialect === "sqlite") assert.match(check.stdout, /SQLite integrity check/);
    });

    test("provenance pointing at missing rows is named, exit 1", async () => {
      const [row] = await p.query<{ value_hash: string }>(
        "select value_hash from evaluation limit 1",
      );
      const run = async (statement: string) => {
        if (p.db.dialect === "sqlite") {
          const db = new SQLite(p.db.file);
          db.prepare(statement).run();
          db.close();
        } else await p.query(statement);
      };
      await run(`delete from value where value_hash = '${row!.value_hash}'`);
      await run("delete from execution");
      const check = p.redun(["db", "check"]);
      assert.equal(check.code, 1, check.stdout + check.stderr);
      assert.match(check.stdout, /: 2 problem\(s\)\n/);
      assert.match(check.stdout, /^ {2}evaluations whose value is missing: [1-9]\d*$/m);
      assert.match(check.stdout, /^ {2}jobs whose execution is missing: [1-9]\d*$/m);
    });

    if (dialect === "sqlite") {
      test("a damaged file is one report naming it (the open or the integrity check fails)", () => {
        const file = p.db.dialect === "sqlite" ? p.db.file : "";
        const bytes = fs.readFileSync(file);
        assert.ok(bytes.length > 8 * 4096, "the database spans several pages");
        // Scribble over the pages after the first (the schema stays readable).
        for (let i = 4096 * 2; i < bytes.length; i += 97) bytes[i] = (bytes[i]! + 89) & 255;
        fs.writeFileSync(file, bytes);
        const check = p.redun(["db", "check"]);
        assert.equal(check.code, 1, check.stdout + check.stderr);
        const out = check.stdout + check.stderr;
        assert.ok(out.includes(file), out);
        assert.doesNotMatch(out, /\n\s+at /, "no stack trace");
      });
    }
  });
}
