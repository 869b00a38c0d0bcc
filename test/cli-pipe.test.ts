/**
 * Output to a closed pipe (`redun log | head -1`): the command ends quietly, with no EPIPE
 * stack trace, through a real shell pipeline.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { BIN } from "./helpers/cli.ts";
import { FLOW, makeBackendProject, type Project } from "./helpers/backend.ts";

/** Runs `redun ARGS | TAIL` under bash; `PIPESTATUS[0]` is redun's own exit status. */
function piped(p: Project, args: string, tail: string) {
  const result = spawnSync(
    "bash",
    ["-c", `"${process.execPath}" "${BIN}" ${args} | ${tail}; echo "status=\${PIPESTATUS[0]}" >&2`],
    { cwd: p.dir, encoding: "utf8", env: { ...process.env, REDUN_CONFIG: "", ...p.env } },
  );
  const status = Number(/status=(\d+)/.exec(result.stderr)?.[1]);
  const stderr = result.stderr.replace(/status=\d+\n/, "");
  return { stdout: result.stdout, stderr, status };
}

describe("output to a closed pipe", () => {
  let p: Project;
  before(async () => {
    p = await makeBackendProject(undefined);
    for (let i = 0; i < 4; i++) p.redun(["run", FLOW, "main", "--x", String(i), "--y", "4"]);
    // A value of megabytes, so that `redun export` too writes far more than a pipe holds
    // (a small export could all fit in the pipe before `head` closes it).
    const big = p.redun(["run", FLOW, "bigLength", "--n", "3000000"]);
    assert.equal(big.code, 0, big.stderr);
    // Several megabytes: far more than a pipe holds, so the writer sees the pipe close.
    fs.writeFileSync(path.join(p.dir, "big.txt"), "0123456789abcdef\n".repeat(300_000));
  });
  after(() => fs.rmSync(p.dir, { recursive: true, force: true }));

  for (const [args, tail] of [
    ["log", "head -1"],
    ["log --format json", "head -c 10"],
    ["export", "head -1"],
    ["fs cat big.txt", "head -c 10"],
    ["fs cat big.txt big.txt", "head -1"],
  ]) {
    test(`redun ${args} | ${tail} ends quietly`, () => {
      const result = piped(p, args!, tail!);
      assert.ok(result.stdout.length > 0, "head printed something");
      assert.doesNotMatch(result.stderr, /EPIPE|Error|at /, result.stderr);
      assert.equal(result.stderr, "");
      assert.ok([0, 141].includes(result.status), `exit status ${result.status}`);
    });
  }
});
