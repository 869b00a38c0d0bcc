/**
 * The start-up bench: how long the `redun` command takes before and around real work, side
 * by side with bare Node and with `node --import tsx` on a one-line .ts file (the yardstick:
 * a cached one-task `redun run` should stay within 1.5× of it). Runs on this Node and on
 * every other Node line that CI has installed (scripts/test-other-nodes.sh caches them in
 * /var/cache/redun-ci with dependencies built for them). Uses the compiled package (dist/).
 * On each Node line it also runs the 10k fan-out through `redun run` (bench/workflow.ts),
 * cold and cached, as the scheduler bench (bench/run.ts) does on this Node only.
 *
 *   node --import tsx bench/startup.ts [RUNS] [FANOUT_RUNS]
 *     # default 7 runs of each start-up, 5 of each fan-out; medians (and ranges) reported
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import SQLite from "better-sqlite3";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CACHE = process.env.REDUN_CI_CACHE ?? "/var/cache/redun-ci";
const RUNS = Number(process.argv[2] ?? 7);
const FANOUT_RUNS = Number(process.argv[3] ?? 5);
const FANOUT_SIZE = 10_000;

/** A Node binary and the node_modules built for it. */
interface Runtime {
  node: string;
  version: string;
  modules: string;
}

function runtimes(): Runtime[] {
  const found: Runtime[] = [
    { node: process.execPath, version: process.version, modules: path.join(REPO, "node_modules") },
  ];
  for (const entry of fs.existsSync(CACHE) ? fs.readdirSync(CACHE).sort() : []) {
    const node = path.join(CACHE, entry, "node_modules", "node", "bin", "node");
    if (!entry.startsWith("node-") || !fs.existsSync(node)) continue;
    const version = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
    // The dependencies built last for this Node (scripts/test-other-nodes.sh keeps one
    // build per Node line: the current lockfile's, once CI has run).
    const modules = fs
      .readdirSync(CACHE)
      .filter((e) => e.startsWith(`modules-${version}-`))
      .map((e) => path.join(CACHE, e, "node_modules"))
      .filter((m) => fs.existsSync(m))
      .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
    if (modules) found.push({ node, version, modules });
    else console.error(`${version}: skipped, no dependencies built for it (run .ci/run)`);
  }
  return found;
}

/** A scratch project: the package (bin, dist) over `modules`, and a one-task workflow. */
function project(runtime: Runtime): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redun-startup-"));
  const pkg = path.join(dir, "redun");
  fs.mkdirSync(pkg);
  for (const f of ["package.json", "bin", "dist"]) {
    fs.cpSync(path.join(REPO, f), path.join(pkg, f), { recursive: true });
  }
  fs.symlinkSync(runtime.modules, path.join(pkg, "node_modules"));
  fs.mkdirSync(path.join(dir, "node_modules"));
  fs.symlinkSync(pkg, path.join(dir, "node_modules", "redun"));
  fs.symlinkSync(path.join(runtime.modules, "tsx"), path.join(dir, "node_modules", "tsx"));
  fs.writeFileSync(path.join(dir, "package.json"), '{ "type": "module" }\n');
  fs.writeFileSync(path.join(dir, "one.ts"), "const one: number = 1;\nconsole.log(one);\n");
  fs.writeFileSync(
    path.join(dir, "workflow.ts"),
    'import { namespace } from "redun";\nconst { task } = namespace("bench");\n' +
      "export const inc = task(function inc(x: number): number {\n  return x + 1;\n});\n" +
      "export const stamp = task(function stamp(x: number): number {\n  return Date.now();\n});\n",
  );
  fs.copyFileSync(path.join(REPO, "bench", "workflow.ts"), path.join(dir, "fanout.ts"));
  fs.mkdirSync(path.join(dir, ".redun"));
  fs.writeFileSync(
    path.join(dir, ".redun", "redun.ini"),
    "[backend]\ndb_uri = sqlite:///redun.db\n",
  );
  return dir;
}

/** Median wall seconds and peak RSS (MB, of the main process) of a command. */
function measure(node: string, args: string[], cwd: string): { seconds: number; rssMB: number } {
  const probe = path.join(cwd, "rss-probe.mjs");
  fs.writeFileSync(
    probe,
    'import fs from "node:fs";\nprocess.on("exit", () => fs.writeFileSync(process.env.RSS_OUT, ' +
      "String(process.resourceUsage().maxRSS)));\n",
  );
  const env = { ...process.env, REDUN_CONFIG: "" };
  const times: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const start = performance.now();
    const result = spawnSync(node, args, { cwd, env, stdio: "ignore" });
    if (result.status !== 0) throw new Error(`${args.join(" ")} exited with ${result.status}`);
    if (i > 0) times.push((performance.now() - start) / 1000); // the first run warms caches
  }
  const rssFile = path.join(cwd, "rss.txt");
  spawnSync(node, ["--import", probe, ...args], {
    cwd,
    env: { ...env, RSS_OUT: rssFile },
    stdio: "ignore",
  });
  return {
    seconds: median(times),
    rssMB: Math.round(Number(fs.readFileSync(rssFile, "utf8")) / 1024),
  };
}

/**
 * When a thread worker starts a job's first line (median, ms): from the command's start,
 * and from its run's start (the root job's recorded start time). `--no-cache`: every run
 * runs the task.
 */
function firstJob(node: string, bin: string, cwd: string): { fromStart: number; fromRun: number } {
  const db = new SQLite(path.join(cwd, ".redun", "redun.db"), { readonly: true });
  const fromStart: number[] = [];
  const fromRun: number[] = [];
  try {
    for (let i = 0; i <= RUNS; i++) {
      const started = Date.now();
      const result = spawnSync(
        node,
        [bin, "run", "--no-cache", "workflow.ts", "stamp", "--x", "1"],
        {
          cwd,
          encoding: "utf8",
          env: { ...process.env, REDUN_CONFIG: "" },
        },
      );
      if (result.status !== 0) throw new Error(`redun run stamp exited with ${result.status}`);
      const ran = Number(result.stdout.trim().split("\n").pop());
      const job = db
        .prepare("select start_time from job order by start_time desc limit 1")
        .get() as { start_time: string };
      if (i === 0) continue; // the first run warms caches
      fromStart.push(ran - started);
      fromRun.push(ran - Date.parse(job.start_time));
    }
  } finally {
    db.close();
  }
  return { fromStart: median(fromStart), fromRun: median(fromRun) };
}

/** The median of a list of numbers (the upper one of an even count). */
function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** A list of numbers as `median (min–max)`. */
function spread(values: number[], digits: number): string {
  const [min, max] = [Math.min(...values), Math.max(...values)];
  return `${median(values).toFixed(digits)} (${min.toFixed(digits)}–${max.toFixed(digits)})`;
}

/** One run of a command: its wall seconds and peak RSS. */
interface Usage {
  seconds: number;
  maxRssMB: number;
}

/**
 * The 10k fan-out through `redun run`, cold (a new database each time) then cached: wall
 * seconds of the whole command, and its peak RSS (MB, worker threads included) as
 * bench/usage.mjs reports it.
 */
function fanout(node: string, bin: string, cwd: string) {
  const config = path.join(cwd, "fanout-config");
  const db = path.join(cwd, "fanout.db");
  fs.mkdirSync(config, { recursive: true });
  fs.writeFileSync(
    path.join(config, "redun.ini"),
    `[backend]\ndb_uri = sqlite:///${db}\n[scheduler]\njob_status_interval = 0\n` +
      "[executors.default]\ntype = local\nmode = thread\n",
  );
  const usageFile = path.join(cwd, "usage.json");
  const once = (): Usage => {
    const started = performance.now();
    const result = spawnSync(
      node,
      [
        "--import",
        path.join(REPO, "bench", "usage.mjs"),
        bin,
        "--config",
        config,
        "run",
        "fanout.ts",
        "fanout",
        "--n",
        String(FANOUT_SIZE),
      ],
      { cwd, env: { ...process.env, REDUN_BENCH_USAGE: usageFile }, stdio: "ignore" },
    );
    if (result.status !== 0) throw new Error(`redun run fanout exited with ${result.status}`);
    const { maxRssMB } = JSON.parse(fs.readFileSync(usageFile, "utf8")) as { maxRssMB: number };
    return { seconds: (performance.now() - started) / 1000, maxRssMB };
  };
  const cold: Usage[] = [];
  const cached: Usage[] = [];
  for (let i = 0; i <= FANOUT_RUNS; i++) {
    for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(db + suffix, { force: true });
    const first = once();
    const second = once();
    if (i === 0) continue; // the first run warms caches (tsx's, Node's compile cache)
    cold.push(first);
    cached.push(second);
  }
  const describe = (runs: Usage[]) =>
    `${spread(
      runs.map((r) => r.seconds),
      2,
    )} s, ${spread(
      runs.map((r) => r.maxRssMB),
      0,
    )} MB`;
  return { cold: describe(cold), cached: describe(cached) };
}

const load = fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
console.log(`start-up, median of ${RUNS} runs; load average ${load}; ${os.cpus().length} CPUs`);
for (const runtime of runtimes()) {
  const dir = project(runtime);
  try {
    const bin = path.join(dir, "node_modules", "redun", "bin", "redun.mjs");
    spawnSync(runtime.node, [bin, "run", "workflow.ts", "inc", "--x", "1"], { cwd: dir });
    const rows: [string, { seconds: number; rssMB: number }][] = [
      ["node -e 0", measure(runtime.node, ["-e", "0"], dir)],
      ["node --import tsx one.ts", measure(runtime.node, ["--import", "tsx", "one.ts"], dir)],
      ["redun --help", measure(runtime.node, [bin, "--help"], dir)],
      [
        "redun run (cached, one task)",
        measure(runtime.node, [bin, "run", "workflow.ts", "inc", "--x", "1"], dir),
      ],
    ];
    const yardstick = rows[1]![1].seconds;
    console.log(`\nNode ${runtime.version}`);
    for (const [label, m] of rows) {
      const ratio = (m.seconds / yardstick).toFixed(2);
      console.log(
        `  ${label.padEnd(30)} ${m.seconds.toFixed(3)} s  ${String(m.rssMB).padStart(4)} MB  ${ratio}× tsx`,
      );
    }
    const first = firstJob(runtime.node, bin, dir);
    console.log(
      `  first job on a thread worker   ${(first.fromStart / 1000).toFixed(3)} s after the ` +
        `command started, ${(first.fromRun / 1000).toFixed(3)} s after its run started`,
    );
    if (FANOUT_RUNS > 0) {
      const runs = fanout(runtime.node, bin, dir);
      console.log(`  redun run fan-out 10k, cold     ${runs.cold}`);
      console.log(`  same, cached                   ${runs.cached}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
