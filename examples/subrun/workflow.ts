/**
 * Subrun and federated tasks. `main` hands a whole fan-out to one job on the `process`
 * executor, where a scheduler of its own runs it (`subrun`), and calls team B's `greet`
 * through the federated entry point `teamb_greet` (declared in teamb/.redun, imported by
 * `federated_configs`): this module never imports team B's code.
 *
 *   cd examples/subrun && npx redun run workflow.ts main --n 4
 *
 * Run it again and everything is replayed from the cache, except the federated call: the
 * caller cannot hash code it does not have, so its subrun runs again and replays team B's
 * task from its own cache. `npx redun log` shows one execution: the inner jobs sit under
 * their `redun.subrun` jobs.
 */
import { federatedTask, namespace, subrun } from "redun";

const { task } = namespace("subrun_example");

export const square = task(function square(x: number) {
  return x * x;
});

export const total = task(function total(xs: number[]) {
  return xs.reduce((a, b) => a + b, 0);
});

/** The fan-out: n calls of `square`, summed. */
export const sumSquares = task(function sumSquares(n: number) {
  return total(Array.from({ length: n }, (_, i) => square(i + 1)));
});

export const report = task(function report(sum: number, greeting: string) {
  return `${greeting}; the sum of squares is ${sum}`;
});

/** The entry point: `--n 4` on the command line. */
export const main = task(function main(n: number, name = "example") {
  // One job on the `process` executor runs the whole fan-out with its own local executors.
  const sum = subrun(sumSquares(n), "process");
  // Team B's task, by entry point name only (see teamb/.redun/redun.ini).
  const greeting = federatedTask<string>("teamb_greet", name);
  return report(sum, greeting);
});
