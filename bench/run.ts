/**
 * The scheduler bench: fan-outs of trivial tasks (1k, 10k; 100k with --large), cold and
 * cached, on thread, inline and process workers, recorded in SQLite and in PostgreSQL; a
 * deep recursive chain; the 10k fan-out through the `redun` command. Each scenario runs in
 * its own process and reports wall time (the whole process), the run's own time, CPU time
 * and peak RSS. Then the start-up bench (bench/startup.ts), when it exists.
 *
 *   npm run bench                          # the default scenarios
 *   npm run bench -- --large               # also the 100k fan-outs
 *   npm run bench -- --only 10k            # scenarios whose label contains "10k"
 *   npm run bench -- --no-postgres --no-startup
 *   npm run bench -- --profile DIR         # `node --cpu-prof` each scenario into DIR
 *
 * Uses the compiled package (dist/), built first. PostgreSQL is started the way the tests
 * start it (test/helpers/postgres.ts: REDUN_TEST_PG, or a throwaway server).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..");
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const large = flag("--large");
const only = option("--only");
const profileDir = option("--profile");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redun-bench-"));

interface Usage {
  seconds: number;
  cpuSeconds: number;
  maxRssMB: number;
}

interface Scenario {
  label: string;
  /** Scenarios sharing a key share a database: the first runs cold, the next cached. */
  db: string;
  run: "scenario" | "cli";
  workflow: "fanout" | "chain";
  size: number;
  mode: "thread" | "inline" | "process";
  dialect: "sqlite" | "postgresql";
  large?: boolean;
}

function scenarios(): Scenario[] {
  const list: Scenario[] = [];
  const pair = (base: Omit<Scenario, "label" | "db">, name: string) => {
    for (const phase of ["cold", "cached"])
      list.push({ ...base, label: `${name}, ${phase}`, db: name });
  };
  const k = (n: number) => `${n / 1000}k`;
  for (const size of [1_000, 10_000, 100_000]) {
    for (const mode of ["thread", "inline"] as const) {
      const base = { run: "scenario", workflow: "fanout", size, mode, dialect: "sqlite" } as const;
      pair({ ...base, large: size > 10_000 }, `fan-out ${k(size)}, ${mode}, sqlite`);
    }
  }
  pair(
    { run: "scenario", workflow: "fanout", size: 1_000, mode: "process", dialect: "sqlite" },
    "fan-out 1k, process, sqlite",
  );
  for (const size of [1_000, 10_000, 100_000]) {
    pair(
      {
        run: "scenario",
        workflow: "fanout",
        size,
        mode: "thread",
        dialect: "postgresql",
        large: size > 10_000,
      },
      `fan-out ${k(size)}, thread, postgresql`,
    );
  }
  pair(
    { run: "scenario", workflow: "chain", size: 1_000, mode: "thread", dialect: "sqlite" },
    "chain depth 1k, thread, sqlite",
  );
  pair(
    { run: "cli", workflow: "fanout", size: 10_000, mode: "thread", dialect: "sqlite" },
    "redun run: fan-out 10k, thread, sqlite",
  );
  return list.filter(
    (s) =>
      (large || !s.large) &&
      (!only || s.label.includes(only)) &&
      (s.dialect !== "postgresql" || !flag("--no-postgres")),
  );
}

/** Runs a command to completion; returns its usage as bench/usage.mjs reports it. */
function measure(
  argv: string[],
  env: Record<string, string>,
  cwd = repo,
): Usage & { stdout: string } {
  const usageFile = path.join(dir, `usage-${process.pid}-${Date.now()}.json`);
  const started = performance.now();
  const result = spawnSync(process.execPath, argv, {
    cwd,
    encoding: "utf8",
    maxBuffer: 1 << 30,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env, REDUN_BENCH_USAGE: usageFile },
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) {
    throw new Error(
      `${argv.join(" ")} failed (exit ${result.status ?? result.signal}):\n${result.stderr}`,
    );
  }
  const usage = JSON.parse(fs.readFileSync(usageFile, "utf8")) as Usage;
  return { ...usage, seconds, stdout: result.stdout };
}

const profileArgs = (label: string) =>
  profileDir
    ? ["--cpu-prof", `--cpu-prof-dir=${path.resolve(profileDir, label.replace(/[^\w]+/g, "-"))}`]
    : [];

function runScenario(s: Scenario, dbUri: string, env: Record<string, string>): string {
  if (s.run === "cli") {
    const config = path.join(dir, `${s.db}-config`.replace(/[^\w-]+/g, "-"));
    fs.mkdirSync(config, { recursive: true });
    fs.writeFileSync(
      path.join(config, "redun.ini"),
      [
        "[backend]",
        `db_uri = ${dbUri}`,
        "[scheduler]",
        "job_status_interval = 0",
        "[executors.default]",
        "type = local",
        `mode = ${s.mode}`,
        "max_workers = 20",
        "",
      ].join("\n"),
    );
    const out = measure(
      [
        "--import",
        path.join(here, "usage.mjs"),
        ...profileArgs(s.label),
        path.join(repo, "bin", "redun.mjs"),
        "--config",
        config,
        "run",
        path.join(here, "workflow.ts"),
        s.workflow,
        s.workflow === "chain" ? "--depth" : "--n",
        String(s.size),
      ],
      env,
    );
    return row(s, out, undefined, undefined);
  }
  const out = measure(
    [
      "--import",
      path.join(here, "usage.mjs"),
      "--import",
      "tsx",
      ...profileArgs(s.label),
      path.join(here, "scenario.ts"),
      s.workflow,
      String(s.size),
      s.mode,
      dbUri,
    ],
    env,
  );
  const report = JSON.parse(out.stdout.trim().split("\n").pop()!) as {
    seconds: number;
    jobs: Record<string, number>;
  };
  return row(s, out, report.seconds, report.jobs);
}

function row(
  s: Scenario,
  usage: Usage,
  runSeconds: number | undefined,
  jobs: Record<string, number> | undefined,
): string {
  const cells = [
    s.label,
    usage.seconds.toFixed(2),
    runSeconds === undefined ? "" : runSeconds.toFixed(2),
    usage.cpuSeconds.toFixed(2),
    String(usage.maxRssMB),
    jobs ? `${jobs.DONE} done, ${jobs.CACHED} cached` : "",
  ];
  return `| ${cells.join(" | ")} |`;
}

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, [path.join(repo, "scripts", "build.mjs")], {
    cwd: repo,
    stdio: "inherit",
  });
  if (build.status !== 0) throw new Error("building dist/ failed: the bench measures dist/");
  const list = scenarios();
  let pg:
    Awaited<ReturnType<typeof import("../test/helpers/postgres.ts").startPostgres>> | undefined;
  if (list.some((s) => s.dialect === "postgresql")) {
    const { startPostgres } = await import("../test/helpers/postgres.ts");
    pg = await startPostgres();
  }
  const load = fs.readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  process.stdout.write(
    `redun bench, ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} CPUs, ` +
      `Node ${process.version}, load average ${load}\n\n` +
      "| scenario | wall s | run s | CPU s | peak RSS MB | jobs |\n| --- | --- | --- | --- | --- | --- |\n",
  );
  const databases = new Map<string, string>();
  try {
    for (const s of list) {
      let uri = databases.get(s.db);
      if (!uri) {
        uri =
          s.dialect === "postgresql"
            ? (await pg!.createDatabase()).uri
            : `sqlite:///${path.join(dir, s.db.replace(/[^\w]+/g, "-") + ".db")}`;
        databases.set(s.db, uri);
      }
      process.stdout.write(runScenario(s, uri, pg?.env ?? {}) + "\n");
    }
  } finally {
    await pg?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const startup = path.join(here, "startup.ts");
  if (fs.existsSync(startup) && !flag("--no-startup") && !only) {
    process.stdout.write("\n");
    spawnSync(process.execPath, ["--import", "tsx", startup], { cwd: repo, stdio: "inherit" });
  }
}

await main();
