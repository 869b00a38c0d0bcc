/**
 * What a `redun run` start loads. TypeScript support (tsx) loads esbuild only to transform a
 * file it has not transformed before: a rerun, served from tsx's cache, never loads it
 * (loader/esbuild-redirect.mjs, esbuild-lazy.mjs). On Node 22.15+ module hooks run on the
 * command's own thread, which loads esbuild for the first run's transform; on Node 20 they
 * run on a thread of their own, which does, and the command's thread never loads it.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import module from "node:module";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { makeProject, redun } from "./helpers/cli.ts";

/**
 * Preloaded into the command: writes, as it exits, whether esbuild was loaded and how many
 * diagnostic reports were made (better-sqlite3 13 makes one to tell musl from glibc when
 * it has to find its prebuilt addon itself: some 2 ms).
 */
const PROBE = `
import fs from "node:fs";
import module from "node:module";
let reports = 0;
const getReport = process.report.getReport.bind(process.report);
process.report.getReport = (...args) => (reports++, getReport(...args));
process.on("exit", () => {
  const esbuild = Object.keys(module._cache ?? {}).some((file) => file.includes("/esbuild/"));
  fs.writeFileSync(process.env.PROBE_OUT, JSON.stringify({ esbuild, reports }));
});
`;

// An enum: esbuild transforms it (Node's own type stripping would not).
const WORKFLOW = `
import { task } from "redun";
enum Step { First = 40, Second }
export const answer = task({ name: "answer", namespace: "startup" }, (x: number) => x + Step.Second);
`;

const SAME_THREAD_HOOKS =
  typeof (module as { registerHooks?: unknown }).registerHooks === "function";

describe("redun run start-up", () => {
  let dir: string;
  before(() => {
    dir = makeProject({
      // Inline: no worker thread imports (and transforms) the workflow beside the command,
      // whose cache write the command's exit could cut short.
      ".redun/redun.ini":
        "[backend]\ndb_uri = sqlite:///redun.db\n[executors.default]\ntype = local\nmode = inline\n",
      "workflow.ts": WORKFLOW,
      "probe.mjs": PROBE,
    });
    fs.mkdirSync(path.join(dir, "tmp"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  // Nor does it make a diagnostic report: the SQLite driver's addon is found directly
  // (backend/database.ts), on Node 24 a prebuilt one (better-sqlite3 13).
  test("loads esbuild to transform a new workflow file, not to rerun it", () => {
    const run = () => {
      const out = path.join(dir, "probe.json");
      const result = redun(dir, ["run", "workflow.ts", "answer", "--x", "1"], {
        // A fresh folder for tsx's transform cache (and Node's compile cache).
        TMPDIR: path.join(dir, "tmp"),
        PROBE_OUT: out,
        NODE_OPTIONS: `--import ${path.join(dir, "probe.mjs")}`,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout.trim(), "42");
      return JSON.parse(fs.readFileSync(out, "utf8")) as { esbuild: boolean; reports: number };
    };
    assert.deepEqual(
      run(),
      { esbuild: SAME_THREAD_HOOKS, reports: 0 },
      SAME_THREAD_HOOKS
        ? "the first run transforms the workflow on the command's thread"
        : "Node 20 transforms on the hooks thread: the command's thread has no use for esbuild",
    );
    assert.deepEqual(run(), { esbuild: false, reports: 0 }, "the rerun reads tsx's cache");
  });
});
