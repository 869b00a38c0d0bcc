/**
 * The scheduler bench: cold and cached fan-outs, a deep chain, thread and process modes.
 * Each scenario runs in its own process against its own SQLite file.
 *
 *   npm run bench              # default sizes
 *   npm run bench -- 1000      # a smaller fan-out
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const fanoutSize = Number(process.argv[2] ?? 10_000);
const chainDepth = Number(process.argv[3] ?? 1_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redun-bench-"));

interface Row {
  scenario: string;
  size: number;
  mode: string;
  seconds: number;
  maxRssMB: number;
  jobs: Record<string, number>;
  check: unknown;
}

function run(label: string, scenario: string, size: number, mode: string, db: string): Row {
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", path.join(here, "scenario.ts"), scenario, String(size), mode, db],
    {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const row = JSON.parse(out.trim().split("\n").pop()!) as Row;
  process.stdout.write(
    `${label.padEnd(34)} ${row.seconds.toFixed(2).padStart(7)} s  ${String(row.maxRssMB).padStart(5)} MB peak  ` +
      `(done ${row.jobs.DONE}, cached ${row.jobs.CACHED})\n`,
  );
  return row;
}

process.stdout.write(`redun bench on ${os.cpus().length} CPUs, Node ${process.version}\n`);
const db = (name: string) => path.join(dir, `${name}.db`);
try {
  run(`fan-out ${fanoutSize}, thread, cold`, "fanout", fanoutSize, "thread", db("thread"));
  run(`fan-out ${fanoutSize}, thread, cached`, "fanout", fanoutSize, "thread", db("thread"));
  run(`fan-out ${fanoutSize}, inline, cold`, "fanout", fanoutSize, "inline", db("inline"));
  run(`fan-out ${fanoutSize}, inline, cached`, "fanout", fanoutSize, "inline", db("inline"));
  const processSize = Math.min(fanoutSize, 2_000);
  run(`fan-out ${processSize}, process, cold`, "fanout", processSize, "process", db("process"));
  run(`chain depth ${chainDepth}, thread, cold`, "chain", chainDepth, "thread", db("chain"));
  run(`chain depth ${chainDepth}, thread, cached`, "chain", chainDepth, "thread", db("chain"));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
