/**
 * One bench scenario in a fresh process, so that its time and peak memory are its own.
 * Usage: node --import tsx bench/scenario.ts SCENARIO SIZE MODE DB_URI
 * (SCENARIO `fanout` or `chain`; MODE `thread`, `inline` or `process`; DB_URI
 * `sqlite:///FILE` or `postgresql://…` with REDUN_DB_USERNAME/REDUN_DB_PASSWORD set.)
 * Prints one JSON line: seconds of the run itself (open to close), CPU seconds of this
 * process (worker threads included; process-mode workers not), peak RSS, job totals.
 */
import { Scheduler } from "redun";
import { chain, fanout } from "./workflow.ts";

const [scenario, sizeText, mode, dbUri] = process.argv.slice(2) as [string, string, string, string];
const size = Number(sizeText);
const sqlitePath = dbUri.startsWith("sqlite:///") ? dbUri.slice("sqlite:///".length) : undefined;
const scheduler = new Scheduler({
  backendOptions: { dbUri, sqlitePath, automigrate: true },
  executorConfigs: { default: { type: "local", options: { mode, max_workers: 20 } } },
  jobStatusInterval: 0,
  log: () => {},
});
const started = performance.now();
const result = await scheduler.run(scenario === "chain" ? chain(size) : fanout(size));
await scheduler.close();
const seconds = (performance.now() - started) / 1000;
const usage = process.resourceUsage();
process.stdout.write(
  JSON.stringify({
    seconds,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    maxRssMB: Math.round(usage.maxRSS / 1024),
    jobs: scheduler.status.totals(),
    check: Array.isArray(result) ? result.length : result,
  }) + "\n",
);
