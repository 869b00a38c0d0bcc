// Runs every test file under test/ with node's test runner (TypeScript through tsx).
// Node 20's --test does not expand globs, so the files are listed here.
// It first brings dist/ up to date (incremental build, a few seconds when little changed):
// the tests of the `redun` command run the compiled package, as users do, and so must see
// the current sources. Type errors do not stop the tests (`npm run lint` reports them).
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const only = process.argv.slice(2);
const files = fs
  .readdirSync(path.join(root, "test"), { recursive: true })
  .map(String)
  .filter((f) => f.endsWith(".test.ts") && !f.includes("fixtures"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()
  .map((f) => path.join("test", f));

// The Kubernetes suite needs server binaries built from Debian's source once per machine
// (scripts/k8s-build.sh, ~16 CPU-minutes, cached outside the repository under a lock): on a
// machine without them, the build starts now, in the background, so that it overlaps the
// other suites instead of holding up the one that needs it (which waits on the lock).
if (files.some((f) => f.includes("executor-k8s")) && !process.env.REDUN_TEST_KUBECONFIG) {
  const log = fs.openSync(path.join(os.tmpdir(), "redun-k8s-build.log"), "a");
  spawn("nice", ["-n", "10", "bash", path.join(root, "scripts", "k8s-build.sh")], {
    cwd: root,
    stdio: ["ignore", log, log],
    detached: true,
  })
    .on("error", () => {}) // the suite's own call of the script reports what is wrong
    .unref();
}

const build = spawnSync(
  process.execPath,
  [path.join(root, "scripts", "build.mjs"), "--allow-type-errors"],
  { cwd: root, stdio: "inherit" },
);
if (build.status !== 0) process.exit(build.status ?? 1);

const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", "--test-concurrency=2", ...files],
  {
    cwd: root,
    stdio: "inherit",
    // "redun-source": `import "redun"` (fixtures, scripts the tests start) means src/index.ts,
    // the copy the tests import; the compiled CLI's hooks drop the condition for its workflows.
    env: {
      ...process.env,
      REDUN_TEST: "1",
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --conditions=redun-source`.trim(),
    },
  },
);
process.exit(result.status ?? 1);
