/**
 * JSON arguments on the command line are checked against the shape their parameter's
 * annotation promises (objects, tuples, records, unions, local aliases and interfaces), with
 * one line naming the task, the argument, the place in the value and what was expected; and
 * the same through the real `redun run`, with `--help` showing the file as it was named.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import { readTaskSignature } from "../src/cli/signature.ts";
import { formatTaskHelp, parseTaskArgs, TaskArgsError } from "../src/cli/task-args.ts";
import { makeProject, redun } from "./helpers/cli.ts";

const WORKFLOW = `
import { task } from "redun";

interface Opts { a: string; b?: number }
type Pair = [string, number];
type Shape = { kind: "circle"; r: number } | { kind: "square"; side: number };
enum Color { Red = "red", Green = "green" }

export const shapes = task(function shapes(
  o: { a: string },
  opts?: Opts,
  pairs: Pair[] = [],
  counts: Record<string, number> = {},
  paint: { color: Color; tags: string[] } | null = null,
  shape?: Shape,
  loose: { [key: string]: unknown; id: number } = { id: 0 },
  anything: object = {},
  imported?: Imported,
) {
  return o.a;
});

export const nums = task(function nums(items: number[], n = 1) {
  return items.length + n;
});

// The parameter shadows the task's own name: the compiler renames it (label2) at run time.
export const label = task(function label(label: { a: string }) {
  return label.a;
});
`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redun-args-"));
const file = path.join(dir, "wf.ts");
fs.writeFileSync(file, WORKFLOW);
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const factories = { file: (p: string) => p, dir: (p: string) => p };
const params = () => readTaskSignature(file, { functionName: "shapes", taskName: "shapes" })!;

function parse(argv: string[]): unknown[] {
  // `--o` is required: a good one unless the case is about it.
  const o = argv.includes("--o") ? [] : ["--o", '{"a":"x"}'];
  return parseTaskArgs("shapes", params(), [...o, ...argv], factories);
}

/** The one-line message of the TaskArgsError that parsing `argv` gives. */
function refused(argv: string[]): string {
  try {
    parse(argv);
  } catch (error) {
    assert.ok(error instanceof TaskArgsError, String(error));
    assert.doesNotMatch(error.message, /\n/);
    return error.message;
  }
  assert.fail(`accepted: ${argv.join(" ")}`);
}

describe("JSON arguments are checked against the parameter's declared shape", () => {
  it("accepts values of the shape", () => {
    assert.deepEqual(parse([]), [{ a: "x" }]);
    assert.deepEqual(
      parse([
        ...["--opts", '{"a":"y","b":2}', "--pairs", '[["p",1],["q",2]]'],
        ...["--counts", '{"x":1}', "--paint", '{"color":"red","tags":["t"]}'],
        ...["--shape", '{"kind":"square","side":2}', "--loose", '{"id":1,"extra":[1]}'],
        ...["--anything", '{"z":[1,{}]}', "--imported", '{"whatever":true}'],
      ]),
      [
        { a: "x" },
        { a: "y", b: 2 },
        [
          ["p", 1],
          ["q", 2],
        ],
        { x: 1 },
        { color: "red", tags: ["t"] },
        { kind: "square", side: 2 },
        { id: 1, extra: [1] },
        { z: [1, {}] },
        { whatever: true },
      ],
    );
    assert.deepEqual(parse(["--paint", "null"]).slice(4), [null], "null is in the union");
  });

  it("names the task, the argument, the place in the value and what was expected", () => {
    assert.equal(
      refused(["--o", '{"a":1}']).replace(/^.*?--o/, "--o"),
      "--o of task shapes: expected {a: string} (at .a: expected a string, got 1)",
    );
    const cases: [string[], RegExp][] = [
      [
        ["--o", "[1]"],
        /invalid value \[1\] for argument --o of task shapes: expected \{a: string\}$/,
      ],
      [["--o", "{}"], /--o of task shapes: .*missing property "a": a string/],
      [["--o", '{"a":"x","z":1}'], /unknown property "z", expected only "a"/],
      [
        ["--opts", '{"a":"y","b":"2"}'],
        /--opts .*expected \{a: string, b\?: number\} \(at \.b: expected a number, got "2"\)/,
      ],
      [
        ["--pairs", '[["p"]]'],
        /--pairs .*expected \[string, number\] \(expected 2 elements, got 1\)/,
      ],
      [["--pairs", '[["p","1"]]'], /--pairs .*at \[1\]: expected a number, got "1"/],
      [["--counts", '{"x":"1"}'], /--counts .*at \.x: expected a number/],
      [
        ["--paint", '{"color":"blue","tags":[]}'],
        /at \.color: expected "red" \| "green", got "blue"/,
      ],
      [["--shape", '{"kind":"circle"}'], /--shape .*missing property "r": a number/],
      [
        ["--shape", '{"kind":"oval"}'],
        /--shape .*expected \{kind: "circle", r: number\} \| \{kind: "square", side: number\}$/,
      ],
      [["--loose", '{"extra":1}'], /--loose .*missing property "id"/],
      [["--o", "{not json"], /--o of task shapes: expected JSON of type \{a: string\}/],
    ];
    for (const [argv, pattern] of cases) assert.match(refused(argv), pattern, argv.join(" "));
  });

  it("checks the elements of a number[] given as JSON", () => {
    const nums = readTaskSignature(file, { functionName: "nums", taskName: "nums" })!;
    assert.throws(
      () => parseTaskArgs("nums", nums, ["--items", '[1,"a"]'], factories),
      /^TaskArgsError: invalid value "a" for argument --items of task nums: expected a number$/,
    );
    assert.throws(
      () => parseTaskArgs("nums", nums, ["--items", "[1, 1e400]"], factories),
      /--items of task nums: expected a number/,
    );
  });
});

describe("task help", () => {
  it("names the workflow file as given (quoted for a shell when it needs it)", () => {
    const nums = readTaskSignature(file, { functionName: "nums", taskName: "nums" })!;
    assert.match(
      formatTaskHelp("nums", nums, undefined, "flows/wf.ts"),
      /^Usage: redun run flows\/wf\.ts nums --items NUMBER\.\.\. \[--n NUMBER\]\n/,
    );
    assert.match(
      formatTaskHelp("nums", nums, undefined, "my flows/wf.ts"),
      /^Usage: redun run 'my flows\/wf\.ts' nums /,
    );
    assert.match(formatTaskHelp("nums", nums), /^Usage: redun run FILE nums /);
  });
});

describe("through redun run", () => {
  const project = makeProject({ "wf.ts": WORKFLOW });
  after(() => fs.rmSync(project, { recursive: true, force: true }));

  it("a JSON argument of the wrong shape is one line and exit 1; a good one runs", () => {
    const bad = redun(project, ["run", "wf.ts", "shapes", "--o", '{"a":1}']);
    assert.equal(bad.code, 1);
    const lines = bad.stderr.split("\n").filter((l) => l && !l.startsWith("[redun]"));
    assert.deepEqual(lines, [
      'redun: error: invalid value {"a":1} for argument --o of task shapes: expected {a: string} (at .a: expected a string, got 1)',
    ]);
    const good = redun(project, ["run", "wf.ts", "shapes", "--o", '{"a":"fine"}']);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.stdout.trim(), "fine");
  });

  it("a parameter named like its task keeps its name and type", () => {
    const good = redun(project, ["run", "wf.ts", "label", "--label", '{"a":"named"}']);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(good.stdout.trim(), "named");
    const bad = redun(project, ["run", "wf.ts", "label", "--label", '{"a":2}']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /for argument --label of task label: expected \{a: string\}/);
    const help = redun(project, ["run", "wf.ts", "label", "--help"]);
    assert.match(help.stdout, /--label JSON {2}\{ a: string \}, required/);
  });

  it("numbers are finite decimals only", () => {
    for (const word of ["1e400", "NaN", "Infinity", "-Infinity", "0x10", "1_000", ""]) {
      const result = redun(project, ["run", "wf.ts", "nums", "--items", "1", "--n", word]);
      assert.equal(result.code, 1, word);
      assert.match(
        result.stderr,
        /invalid value ".*" for argument --n of task nums: expected a number/,
      );
    }
  });
});
