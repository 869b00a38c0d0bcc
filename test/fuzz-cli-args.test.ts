/**
 * Property-based tests (fast-check) of task arguments on the command line: random words for
 * a task with every kind of typed parameter either convert to arguments of the declared
 * types or fail with one `TaskArgsError` line; through the real `redun run`, each random
 * command line either runs (exit 0) or ends with one error line and exit 1, no stack trace,
 * within a per-case time limit. Fixed seeds: a failure prints its seed and shrunk case.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { readTaskSignature } from "../src/cli/signature.ts";
import { parseTaskArgs, TaskArgsError } from "../src/cli/task-args.ts";
import { BIN, makeProject } from "./helpers/cli.ts";

const SEED = 424_242;

const WORKFLOW = `
import { task, File } from "redun";
type Mode = "fast" | "slow";
interface Opts { a: string; b?: number[] }

export const typed = task(function typed(
  n: number,
  s: string = "x",
  flag: boolean = false,
  big?: bigint,
  mode: Mode = "fast",
  xs: number[] = [],
  names?: string[],
  opts?: Opts,
  pair?: [string, number],
  any?: unknown,
  input?: File,
  ...rest: number[]
) {
  return [typeof n, typeof s, typeof flag, typeof big, mode, xs.length, names?.length ?? 0,
    opts?.a ?? "", pair?.[1] ?? 0, typeof any, input ? "file" : "", rest.length].join(",");
});
`;

const dir = makeProject({ "wf.ts": WORKFLOW });
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const file = path.join(dir, "wf.ts");

/** Option names: the real ones in their spellings, and some that are not. */
const optionName = fc.constantFrom(
  "n",
  "s",
  "flag",
  "no-flag",
  "big",
  "mode",
  "xs",
  "names",
  "opts",
  "pair",
  "any",
  "input",
  "rest",
  "Flag",
  "nope",
  "",
  "-",
);

/** Values: numbers in every spelling, JSON of every shape, and plain junk. */
const valueWord = fc.oneof(
  fc.constantFrom("1", "-2.5", "1e3", "1e400", "NaN", "Infinity", "0x10", "", " ", "7n"),
  fc.constantFrom("true", "no", "fast", "slow", "[1,2]", '["a"]', '[1,"a"]', "[[1]]"),
  fc.constantFrom('{"a":"x"}', '{"a":1}', '{"a":"x","b":[1]}', '{"b":["1"]}', "{", "null"),
  fc.constantFrom('["p",1]', '["p"]', "--", "--n", "a.txt"),
  fc.double().map(String),
  fc.integer().map(String),
  fc.bigInt().map(String),
  fc.string({ maxLength: 8 }),
  fc.json({ maxDepth: 2 }),
);

/** One option: `--name value`, `--name=value`, a bare `--name`, or a stray word. */
const option = fc.oneof(
  fc.tuple(optionName, valueWord).map(([k, v]) => [`--${k}`, v]),
  fc.tuple(optionName, valueWord).map(([k, v]) => [`--${k}=${v}`]),
  optionName.map((k) => [`--${k}`]),
  valueWord.map((v) => [v]),
);

const argv = fc.array(option, { maxLength: 6 }).map((parts) => parts.flat());

describe("fuzz: task arguments from the command line", () => {
  test("random words convert to typed arguments or fail with one TaskArgsError line", () => {
    const params = readTaskSignature(file, { functionName: "typed", taskName: "typed" });
    assert.ok(params);
    const factories = { file: (p: string) => ({ file: p }), dir: (p: string) => ({ dir: p }) };
    fc.assert(
      fc.property(argv, (words) => {
        let args: unknown[];
        try {
          args = parseTaskArgs("typed", params, words, factories);
        } catch (error) {
          assert.ok(error instanceof TaskArgsError, `not a TaskArgsError: ${String(error)}`);
          assert.doesNotMatch(error.message, /\n/);
          assert.match(error.message, /task typed/);
          return;
        }
        // Whatever was accepted has the declared types.
        const [n, s, flag, big, mode, xs, names, opts, pair] = args;
        assert.ok(typeof n === "number" && Number.isFinite(n), `n = ${String(n)}`);
        assert.ok(s === undefined || typeof s === "string");
        assert.ok(flag === undefined || typeof flag === "boolean");
        assert.ok(big === undefined || typeof big === "bigint");
        assert.ok(mode === undefined || mode === "fast" || mode === "slow");
        assert.ok(xs === undefined || (Array.isArray(xs) && xs.every((x) => Number.isFinite(x))));
        assert.ok(
          names === undefined ||
            (Array.isArray(names) && names.every((x) => typeof x === "string")),
        );
        if (opts !== undefined) {
          const o = opts as { a: unknown; b?: unknown };
          assert.equal(typeof o.a, "string");
          assert.ok(
            o.b === undefined || (Array.isArray(o.b) && o.b.every((x) => typeof x === "number")),
          );
        }
        if (pair !== undefined) {
          assert.ok(Array.isArray(pair) && pair.length === 2);
          assert.equal(typeof pair[0], "string");
          assert.equal(typeof pair[1], "number");
        }
        for (const r of args.slice(12)) assert.ok(Number.isFinite(r));
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  test("through redun run: exit 0, or exit 1 with one line and no stack trace", async () => {
    // Spawning costs about a second a case: a few dozen, always the same ones.
    const cases = fc.sample(argv, { seed: SEED, numRuns: 24 });
    // Some that must run, so that both outcomes are seen.
    cases.push(["--n", "3"], ["--n=1", "--xs", "1", "--xs", "2", "--opts", '{"a":"z"}']);
    const outcomes = { ran: 0, refused: 0 };
    for (const words of cases) {
      const result = await run(["run", "wf.ts", "typed", ...words], 90_000);
      const context = `redun run wf.ts typed ${JSON.stringify(words)}\n${result.stderr}`;
      assert.ok(!result.timedOut, `no answer within the time limit: ${context}`);
      assert.doesNotMatch(result.stderr, /^\s+at /m, `a stack trace: ${context}`);
      if (result.code === 0) {
        outcomes.ran++;
        continue;
      }
      assert.equal(result.code, 1, context);
      const lines = result.stderr.split("\n").filter((l) => l && !l.startsWith("[redun]"));
      assert.equal(lines.length, 1, `not one line: ${context}`);
      assert.match(lines[0]!, /^redun: error: /, context);
      outcomes.refused++;
    }
    assert.ok(outcomes.ran >= 2 && outcomes.refused >= 2, JSON.stringify(outcomes));
  });
});

/** Runs `redun ARGS` in the project, killed after `ms` (reported as timedOut). */
function run(
  args: string[],
  ms: number,
  cwd = dir,
): Promise<{ code: number; stdout: string; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, REDUN_CONFIG: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, ms);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr, timedOut });
    });
  });
}
