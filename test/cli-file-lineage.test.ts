/**
 * File lineage by path, on SQLite and PostgreSQL: every File and Dir a call takes or returns
 * (alone or inside a list or object) is recorded in the `file` table, so `redun log PATH`
 * (and `fileLineage` in the library) names the call that produced each version of a file and
 * the calls that read it.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { before, describe, test } from "node:test";
import { useBackendProjects, type Project } from "./helpers/backend.ts";
import { writeFile } from "./helpers/cli.ts";

const WORKFLOW = `import { File, namespace } from "redun";
const { task } = namespace("lin");
export const write = task(async function write(name: string, text: string) {
  const file = new File("out/" + name + ".txt");
  await file.write(text);
  return file;
});
export const size = task(async function size(f: File) {
  return (await f.read()).length;
});
export const sizes = task(async function sizes(files: File[]) {
  let n = 0;
  for (const f of files) n += (await f.read()).length;
  return n;
});
export const main = task(function main(text: string) {
  const a = write("a", text);
  return [size(a), sizes([a, write("b", "bb")])];
});
`;

for (const dialect of ["sqlite", "postgresql"] as const) {
  describe(`[${dialect}] redun log PATH: a file's lineage`, () => {
    const backends = useBackendProjects();
    let p: Project;
    const log = (...args: string[]) => {
      const r = p.redun(["log", ...args]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };

    before(async () => {
      p = await backends.project(dialect);
      writeFile(p.dir, "wf.ts", WORKFLOW);
      for (const text of ["one", "three"]) {
        const r = p.redun(["run", "wf.ts", "main", "--text", text]);
        assert.equal(r.code, 0, r.stderr);
      }
    });

    test("each version of a file, the call that made it and the calls that read it", () => {
      const lineage = JSON.parse(log("out/a.txt", "--format", "json"));
      assert.equal(lineage.path, path.join(p.dir, "out", "a.txt"));
      assert.equal(lineage.versions.length, 2, "one version per content");
      for (const version of lineage.versions) {
        assert.deepEqual(
          version.producedBy.map((c: any) => c.taskName),
          ["lin.write"],
        );
        // Read alone (size) and inside a list (sizes).
        assert.deepEqual(version.readBy.map((c: any) => c.taskName).sort(), [
          "lin.size",
          "lin.sizes",
        ]);
        for (const call of [...version.producedBy, ...version.readBy]) {
          assert.equal(call.jobs.length, 1, `one job for ${call.taskName}`);
          assert.equal(call.jobs[0].status, "DONE");
        }
      }
      assert.notEqual(lineage.versions[0].valueHash, lineage.versions[1].valueHash);
      // The same file from its absolute path, as text.
      const text = log(path.join(p.dir, "out", "a.txt"));
      assert.match(text, /2 version\(s\)/);
      assert.match(text, /produced by:\n {4}lin\.write/);
      assert.match(text, /lin\.size as f/);
    });

    test("a file unchanged between runs is one version, read by each run", () => {
      const lineage = JSON.parse(log("out/b.txt", "--format", "json"));
      assert.equal(lineage.versions.length, 1);
      const [version] = lineage.versions;
      // The second run replayed write("b") and sizes() was called with a new list.
      const writeJobs = version.producedBy.flatMap((c: any) => c.jobs.map((j: any) => j.status));
      assert.deepEqual(writeJobs.sort(), ["CACHED", "DONE"]);
    });

    test("a path nothing recorded says so", () => {
      assert.match(log("out/none.txt"), /No file recorded at .*out\/none\.txt/);
    });
  });
}
