/**
 * One bench scenario in a fresh process, so that its peak memory is its own.
 * Usage: node --import tsx bench/scenario.ts SCENARIO SIZE MODE DBFILE [cached]
 * Prints one JSON line: { scenario, size, mode, seconds, maxRssMB, result }.
 */
import { Scheduler } from "../src/index.ts";
import { chain, fanout } from "./workflow.ts";

const [scenario, sizeText, mode, dbFile] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
];
const size = Number(sizeText);
const scheduler = new Scheduler({
  backendOptions: { dbUri: `sqlite:///${dbFile}`, sqlitePath: dbFile },
  executorConfigs: { default: { type: "local", options: { mode, max_workers: 20 } } },
  jobStatusInterval: 0,
  log: () => {},
});
const started = process.hrtime.bigint();
const result = await scheduler.run(scenario === "chain" ? chain(size) : fanout(size));
await scheduler.close();
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const check = Array.isArray(result) ? result.length : result;
process.stdout.write(
  JSON.stringify({
    scenario,
    size,
    mode,
    seconds: Number(seconds.toFixed(3)),
    maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
    jobs: scheduler.status.totals(),
    check,
  }) + "\n",
);
