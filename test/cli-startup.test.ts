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

/** Preloaded into the command: writes, as it exits, whether esbuild was loaded. */
const PROBE = `
import fs from "node:fs";
import module from "node:module";
process.on("exit", () => {
  const esbuild = Object.keys(module._cache ?? {}).some((file) => file.includes("/esbuild/"));
  fs.writeFileSync(process.env.PROBE_OUT, JSON.stringify({ esbuild }));
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
      return JSON.parse(fs.readFileSync(out, "utf8")) as { esbuild: boolean };
    };
    assert.deepEqual(
      run(),
      { esbuild: SAME_THREAD_HOOKS },
      SAME_THREAD_HOOKS
        ? "the first run transforms the workflow on the command's thread"
        : "Node 20 transforms on the hooks thread: the command's thread has no use for esbuild",
    );
    assert.deepEqual(run(), { esbuild: false }, "the rerun reads tsx's cache");
  });
});
