import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import {
  clearSignatureCache,
  readTaskSignature,
  untypedParams,
  type ParamInfo,
  type ParamType,
} from "../src/cli/signature.ts";
import { formatTaskHelp, parseTaskArgs, TaskArgsError } from "../src/cli/task-args.ts";

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "signatures");
const WORKFLOW = path.join(FIXTURES, "workflow.ts");
const TYPES = path.join(FIXTURES, "types.ts");

const factories = {
  file: (p: string) => ({ file: p }),
  dir: (p: string) => ({ dir: p }),
};

function sig(file: string, taskName: string, functionName?: string): ParamInfo[] {
  const params = readTaskSignature(file, { taskName, functionName });
  assert.ok(params, `signature of ${taskName} not found in ${file}`);
  return params;
}

/** name → type, for compact assertions. */
function typesOf(params: ParamInfo[]): Record<string, ParamType> {
  return Object.fromEntries(params.map((p) => [p.name, p.type]));
}

const N: ParamType = { kind: "number" };
const S: ParamType = { kind: "string" };
const B: ParamType = { kind: "boolean" };
const JSONT: ParamType = { kind: "json" };
/** The shape of `{ k: number }`. */
const K_NUMBER = {
  kind: "object",
  fields: [{ name: "k", shape: { kind: "number" }, optional: false }],
} as const;
const UNK: ParamType = { kind: "unknown" };

/** Runs `fn`, expects a TaskArgsError, and returns its message. */
function argsError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TaskArgsError, `expected TaskArgsError, got ${String(err)}`);
    assert.ok(!err.message.includes("\n"), `message should be one line: ${err.message}`);
    return err.message;
  }
  assert.fail("expected a TaskArgsError");
}

describe("readTaskSignature: finding the function", () => {
  it("finds a function expression by its own name (route a)", () => {
    assert.deepEqual(sig(WORKFLOW, "add", "add"), [
      { name: "a", type: N, typeText: "number", optional: false, rest: false },
      { name: "b", type: N, typeText: "number", optional: false, rest: false },
    ]);
  });

  it("reads the example main task: types, defaults and optionality", () => {
    const params = sig(WORKFLOW, "main", "main");
    assert.deepEqual(params, [
      { name: "x", type: N, typeText: "number", optional: false, rest: false },
      { name: "y", type: N, optional: true, defaultText: "2", rest: false },
      {
        name: "names",
        type: { kind: "array", element: S },
        typeText: "string[]",
        optional: true,
        defaultText: "[]",
        rest: false,
      },
      { name: "input", type: { kind: "file" }, typeText: "File", optional: true, rest: false },
    ]);
  });

  it("finds a function declaration by fn.name (route a)", () => {
    const params = sig(WORKFLOW, "helper_task", "helper");
    assert.deepEqual(typesOf(params), {
      path: { kind: "file" },
      mode: { kind: "choice", values: ["fast", "slow"] },
      opts: { kind: "json", shape: K_NUMBER },
    });
    assert.equal(params[2]!.defaultText, "{ k: 1 }");
  });

  it("finds a function passed by identifier via the name option (route b)", () => {
    // functionName deliberately wrong: only the `name: "helper_task"` option can find it.
    assert.deepEqual(
      sig(WORKFLOW, "helper_task", "nope").map((p) => p.name),
      ["path", "mode", "opts"],
    );
  });

  it("finds an inline arrow via the name option (route b), also from a full name", () => {
    const expected = { n: { kind: "bigint" }, flag: B };
    assert.deepEqual(typesOf(sig(WORKFLOW, "arrow", "")), expected);
    assert.deepEqual(typesOf(sig(WORKFLOW, "other.ns.arrow")), expected);
  });

  it("finds a variable initialised with a task call (route c), by identifier or inline", () => {
    const scaled = sig(WORKFLOW, "scaled");
    assert.deepEqual(typesOf(scaled), { value: N, factor: N });
    assert.equal(scaled[1]!.defaultText, "1.5");
    assert.deepEqual(typesOf(sig(WORKFLOW, "inlineVar")), { label: S, count: N });
  });

  it("prefers the function the task wraps when several share fn.name", () => {
    assert.deepEqual(typesOf(sig(WORKFLOW, "run_task", "run")), { n: N });
  });

  it("skips a TypeScript `this` parameter", () => {
    assert.deepEqual(typesOf(sig(WORKFLOW, "withThis", "withThis")), { x: N });
  });

  it("returns undefined for an unknown task or a missing file", () => {
    assert.equal(
      readTaskSignature(WORKFLOW, { taskName: "nothing", functionName: "nothing" }),
      undefined,
    );
    assert.equal(
      readTaskSignature(path.join(FIXTURES, "missing.ts"), { taskName: "x" }),
      undefined,
    );
  });

  it("accepts a file: URL", () => {
    const params = readTaskSignature(pathToFileURL(WORKFLOW).href, {
      taskName: "add",
      functionName: "add",
    });
    assert.deepEqual(
      params?.map((p) => p.name),
      ["a", "b"],
    );
  });

  it("reads .mjs and .mts files", () => {
    assert.deepEqual(sig(path.join(FIXTURES, "module.mjs"), "mjs_task"), [
      { name: "path", type: UNK, optional: false, rest: false },
      { name: "retries", type: N, optional: true, defaultText: "2", rest: false },
    ]);
    assert.deepEqual(sig(path.join(FIXTURES, "module.mts"), "mts_task"), [
      { name: "x", type: N, typeText: "number", optional: false, rest: false },
      { name: "y", type: S, typeText: "string", optional: true, rest: false },
    ]);
  });

  it("reads plain JS: unknown types, rest arrays, and JSDoc @param types", () => {
    const js = path.join(FIXTURES, "plain.js");
    assert.deepEqual(sig(js, "untyped", "untyped"), [
      { name: "a", type: UNK, optional: false, rest: false },
      { name: "b", type: N, optional: true, defaultText: "3", rest: false },
      { name: "more", type: { kind: "array", element: UNK }, optional: true, rest: true },
    ]);
    const documented = sig(js, "documented", "documented");
    assert.deepEqual(typesOf(documented), { n: N, tags: { kind: "array", element: S }, maybe: B });
    assert.equal(documented[2]!.optional, true);
  });

  it("re-reads a file that changed (the parse cache checks mtime and size)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redun-sig-"));
    const file = path.join(dir, "w.ts");
    try {
      fs.writeFileSync(file, "export const f = task(function f(a: number) {});\n");
      assert.deepEqual(typesOf(sig(file, "f", "f")), { a: N });
      fs.writeFileSync(file, "export const f = task(function f(a: string, more: boolean) {});\n");
      assert.deepEqual(typesOf(sig(file, "f", "f")), { a: S, more: B });
      clearSignatureCache();
      assert.deepEqual(typesOf(sig(file, "f", "f")), { a: S, more: B });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("readTaskSignature: type mapping", () => {
  const kinds = typesOf(sig(TYPES, "kinds", "kinds"));
  const kindParams = sig(TYPES, "kinds", "kinds");

  it("maps keywords", () => {
    assert.deepEqual(kinds.n, N);
    assert.deepEqual(kinds.s, S);
    assert.deepEqual(kinds.b, B);
    assert.deepEqual(kinds.big, { kind: "bigint" });
  });

  it("maps File and Dir, including import aliases and qualified names", () => {
    assert.deepEqual(kinds.f, { kind: "file" });
    assert.deepEqual(kinds.d, { kind: "dir" });
    assert.deepEqual(kinds.qualified, { kind: "dir" });
  });

  it("maps every array spelling", () => {
    assert.deepEqual(kinds.arr1, { kind: "array", element: N });
    assert.deepEqual(kinds.arr2, { kind: "array", element: S });
    assert.deepEqual(kinds.arr3, { kind: "array", element: B });
    assert.deepEqual(kinds.arr4, { kind: "array", element: { kind: "file" } });
    assert.deepEqual(kinds.nested, { kind: "array", element: { kind: "array", element: N } });
    assert.deepEqual(kinds.choiceArr, {
      kind: "array",
      element: { kind: "choice", values: ["x", "y"] },
    });
  });

  it("maps literal unions, aliases and literal enums to choices", () => {
    assert.deepEqual(kinds.ch, { kind: "choice", values: ["a", "b", 3] });
    assert.deepEqual(kinds.signed, { kind: "choice", values: [-1, 1] });
    assert.deepEqual(kinds.boolLits, B);
    assert.deepEqual(kinds.mode, { kind: "choice", values: ["fast", "slow"] });
    assert.deepEqual(kinds.color, { kind: "choice", values: ["red", "green"] });
  });

  it("strips undefined and null from unions and marks the parameter optional", () => {
    const byName = Object.fromEntries(kindParams.map((p) => [p.name, p]));
    assert.deepEqual(byName.maybeNum!.type, N);
    assert.equal(byName.maybeNum!.optional, true);
    assert.deepEqual(byName.nullableStr!.type, S);
    assert.equal(byName.nullableStr!.optional, true);
    assert.equal(byName.n!.optional, false);
  });

  it("maps object types, records, interfaces, tuples and non-literal enums to json", () => {
    // With the shape the annotation promises, which a JSON argument is checked against.
    assert.deepEqual(kinds.obj, { kind: "json", shape: K_NUMBER });
    assert.deepEqual(kinds.ref, { kind: "json", shape: K_NUMBER }, "an interface in the file");
    assert.deepEqual(kinds.rec, {
      kind: "json",
      shape: { kind: "object", fields: [], rest: { kind: "number" } },
    });
    assert.deepEqual(kinds.tuple, {
      kind: "json",
      shape: { kind: "tuple", elements: [{ kind: "number" }, { kind: "string" }], required: 2 },
    });
    assert.deepEqual(kinds.auto, JSONT, "an enum without literal values: no shape");
    // A self-referring alias is followed once, then anything goes.
    assert.deepEqual(kinds.loop, {
      kind: "array",
      element: { kind: "json", shape: { kind: "array", element: { kind: "any" } } },
    });
  });

  it("maps unknown, any, missing annotations and mixed primitive unions to unknown", () => {
    for (const name of ["unk", "an", "bare", "mixed"]) {
      assert.deepEqual(kinds[name], UNK, name);
    }
  });

  it("maps a rest parameter to an array and marks it rest", () => {
    const rest = kindParams[kindParams.length - 1]!;
    assert.deepEqual(rest, {
      name: "rest",
      type: { kind: "array", element: N },
      typeText: "number[]",
      optional: true,
      rest: true,
    });
    const untyped = sig(TYPES, "restUntyped", "restUntyped");
    assert.deepEqual(untyped[1]!.type, { kind: "array", element: UNK });
  });

  it("infers types from default values", () => {
    assert.deepEqual(typesOf(sig(TYPES, "defaults", "defaults")), {
      n: N,
      neg: N,
      s: S,
      tpl: S,
      b: B,
      big: { kind: "bigint" },
      arr: JSONT,
      obj: JSONT,
      call: UNK,
      opt: S,
    });
  });

  it("names destructured parameters by position and reads them as json", () => {
    const params = sig(TYPES, "destructure", "destructure");
    assert.deepEqual(
      params.map((p) => [p.name, p.type.kind, p.optional]),
      [
        ["arg0", "json", false],
        ["arg1", "json", false],
        ["z", "number", true],
      ],
    );
  });
});

describe("parseTaskArgs", () => {
  const main = sig(WORKFLOW, "main", "main");
  const kinds = sig(TYPES, "kinds", "kinds");
  const p = (name: string, type: ParamType, extra: Partial<ParamInfo> = {}): ParamInfo => ({
    name,
    type,
    optional: false,
    rest: false,
    ...extra,
  });
  const parse = (params: ParamInfo[], argv: string[]) =>
    parseTaskArgs("t", params, argv, factories);

  it("parses the example command line", () => {
    assert.deepEqual(
      parseTaskArgs(
        "acme.main",
        main,
        ["--x", "1", "--y", "3", "--names", "a", "--names", "b"],
        factories,
      ),
      [1, 3, ["a", "b"]],
    );
  });

  it("leaves missing optionals undefined and trims trailing undefineds", () => {
    assert.deepEqual(parse(main, ["--x", "1"]), [1]);
    assert.deepEqual(parse(main, ["--x=1", "--input", "in.txt"]), [
      1,
      undefined,
      undefined,
      { file: "in.txt" },
    ]);
  });

  it("accepts --name=value", () => {
    assert.deepEqual(parse(main, ["--x=-2", '--names=["a","b"]']), [-2, undefined, ["a", "b"]]);
  });

  it("matches names in kebab-case, snake_case and camelCase", () => {
    const params = [p("maxDepth", N), p("min_size", N)];
    assert.deepEqual(parse(params, ["--max-depth", "3", "--min-size", "1"]), [3, 1]);
    assert.deepEqual(parse(params, ["--max_depth", "3", "--minSize", "1"]), [3, 1]);
  });

  it("converts numbers, rejecting garbage", () => {
    const params = [p("v", N)];
    assert.deepEqual(parse(params, ["--v", "1e3"]), [1000]);
    assert.deepEqual(parse(params, ["--v", "-2"]), [-2]);
    assert.deepEqual(parse(params, ["--v", "-2.5"]), [-2.5]);
    assert.deepEqual(parse(params, ["--v", "+.5"]), [0.5]);
    assert.deepEqual(parse(params, ["--v", "2E-3"]), [0.002]);
    for (const bad of ["abc", "", " 1", "1x"]) {
      const message = argsError(() => parse(params, ["--v", bad]));
      assert.match(message, /--v/);
      assert.match(message, /expected a number/);
    }
  });

  it("rejects numbers that are not finite decimals, naming the parameter", () => {
    const params = [p("n", N), p("list", { kind: "array", element: N })];
    for (const bad of ["1e400", "-1e400", "NaN", "Infinity", "-Infinity", "0x10", "0b1"]) {
      const message = argsError(() => parse(params, ["--n", bad]));
      assert.match(message, /invalid value .* for argument --n of task .*: expected a number/);
      assert.match(message, /finite decimal number/);
    }
    assert.match(
      argsError(() => parse(params, ["--list", "[1, 1e400]"])),
      /--list/,
    );
    assert.match(
      argsError(() => parse(params, ["--list", "1", "--list", "NaN"])),
      /--list/,
    );
  });

  it("converts bigints", () => {
    const params = [p("n", { kind: "bigint" })];
    assert.deepEqual(parse(params, ["--n", "12345678901234567890"]), [12345678901234567890n]);
    assert.deepEqual(parse(params, ["--n", "-5n"]), [-5n]);
    assert.match(
      argsError(() => parse(params, ["--n", "1.5"])),
      /invalid value "1\.5" for argument --n.*integer/,
    );
  });

  it("parses boolean flags in every form", () => {
    const params = [p("flag", B, { optional: true }), p("n", N, { optional: true })];
    assert.deepEqual(parse(params, ["--flag"]), [true]);
    assert.deepEqual(parse(params, ["--flag", "--n", "1"]), [true, 1]);
    assert.deepEqual(parse(params, ["--flag", "false"]), [false]);
    assert.deepEqual(parse(params, ["--flag", "YES"]), [true]);
    assert.deepEqual(parse(params, ["--flag", "0"]), [false]);
    assert.deepEqual(parse(params, ["--flag=no"]), [false]);
    assert.deepEqual(parse(params, ["--no-flag"]), [false]);
    assert.match(
      argsError(() => parse(params, ["--flag=maybe"])),
      /"maybe" for argument --flag.*boolean/,
    );
  });

  it("reads arrays from repeated options or one JSON array", () => {
    const params = [p("xs", { kind: "array", element: N })];
    assert.deepEqual(parse(params, ["--xs", "1", "--xs", "2"]), [[1, 2]]);
    assert.deepEqual(parse(params, ["--xs", "[1,2]"]), [[1, 2]]);
    assert.deepEqual(parse(params, ["--xs", '["3"]']), [[3]]);
    assert.match(
      argsError(() => parse(params, ["--xs", "[1,true]"])),
      /invalid value true for argument --xs/,
    );
    assert.match(
      argsError(() => parse(params, ["--xs", "[1,"])),
      /--xs/,
    );
    const files = [p("fs", { kind: "array", element: { kind: "file" } })];
    assert.deepEqual(parse(files, ["--fs", "a", "--fs", "b"]), [[{ file: "a" }, { file: "b" }]]);
    const nested = [p("m", { kind: "array", element: { kind: "array", element: N } })];
    assert.deepEqual(parse(nested, ["--m", "[[1],[2,3]]"]), [[[1], [2, 3]]]);
    assert.deepEqual(parse(nested, ["--m", "[1]", "--m", "[2]"]), [[[1], [2]]]);
  });

  it("spreads rest parameters after the other arguments", () => {
    const params = [
      p("first", S),
      p("opt", N, { optional: true }),
      p("more", { kind: "array", element: N }, { optional: true, rest: true }),
    ];
    assert.deepEqual(parse(params, ["--first", "a", "--more", "1", "--more", "2"]), [
      "a",
      undefined,
      1,
      2,
    ]);
    assert.deepEqual(parse(params, ["--first", "a", "--more", "[3,4]"]), ["a", undefined, 3, 4]);
    assert.deepEqual(parse(params, ["--first", "a"]), ["a"]);
  });

  it("checks choices and returns the typed value", () => {
    const params = [p("c", { kind: "choice", values: ["a", "b", 3, true] })];
    assert.deepEqual(parse(params, ["--c", "b"]), ["b"]);
    assert.deepEqual(parse(params, ["--c", "3"]), [3]);
    assert.deepEqual(parse(params, ["--c", "true"]), [true]);
    assert.match(
      argsError(() => parse(params, ["--c", "z"])),
      /"z" for argument --c .*one of "a", "b", 3, true/,
    );
  });

  it("builds File and Dir values through the factories", () => {
    const params = [p("f", { kind: "file" }), p("d", { kind: "dir" })];
    assert.deepEqual(parse(params, ["--f", "in.txt", "--d", "out/"]), [
      { file: "in.txt" },
      { dir: "out/" },
    ]);
  });

  it("parses json parameters, with a clear error", () => {
    const params = [p("opts", JSONT)];
    assert.deepEqual(parse(params, ["--opts", '{"k":2}']), [{ k: 2 }]);
    const message = argsError(() => parse(params, ["--opts", "{k:2}"]));
    assert.match(
      message,
      /invalid value "\{k:2\}" for argument --opts of task t: expected JSON \(/,
    );
  });

  it("reads unknown parameters as JSON, else as the raw string", () => {
    const params = untypedParams(["a", "b", "c"]);
    assert.deepEqual(parse(params, ["--a", "3", "--b", "abc", "--c", '{"x":[1]}']), [
      3,
      "abc",
      { x: [1] },
    ]);
    assert.deepEqual(parse(params, []), []);
  });

  it("parses every kind from the types fixture in one call", () => {
    const args = parseTaskArgs(
      "kinds",
      kinds,
      [
        "--n",
        "1",
        "--s",
        "x",
        "--b",
        "--big",
        "7",
        "--f",
        "a.txt",
        "--d",
        "dir",
        "--qualified",
        "q",
        "--arr1",
        "1",
        "--arr2",
        "s",
        "--arr3",
        "false",
        "--arr4",
        "f1",
        "--ch",
        "3",
        "--obj",
        '{"k":1}',
        "--rec",
        "{}",
        "--ref",
        '{"k":2}',
        "--unk",
        "null",
        "--an",
        "x",
        "--bare",
        "2",
        "--mode",
        "fast",
        "--color",
        "red",
        "--auto",
        "0",
        "--mixed",
        "5",
        "--tuple",
        '[1,"a"]',
        "--nested",
        "[[1]]",
        "--signed",
        "-1",
        "--bool-lits",
        "no",
        "--choice-arr",
        "x",
        "--loop",
        "[]",
        "--rest",
        "8",
        "--rest",
        "9",
      ],
      factories,
    );
    assert.deepEqual(args, [
      1,
      "x",
      true,
      7n,
      { file: "a.txt" },
      { dir: "dir" },
      { dir: "q" },
      [1],
      ["s"],
      [false],
      [{ file: "f1" }],
      3,
      undefined,
      undefined,
      { k: 1 },
      {},
      { k: 2 },
      null,
      "x",
      2,
      "fast",
      "red",
      0,
      5,
      [1, "a"],
      [[1]],
      -1,
      false,
      ["x"],
      [],
      8,
      9,
    ]);
  });

  it("rejects an unknown argument and lists the valid ones", () => {
    const message = argsError(() => parse(main, ["--x", "1", "--z", "2"]));
    assert.equal(
      message,
      "unknown argument --z for task t (valid arguments: --x, --y, --names, --input)",
    );
    assert.match(
      argsError(() => parse([], ["--x", "1"])),
      /unknown argument --x .*takes no arguments/,
    );
    // --no- only negates booleans.
    assert.match(
      argsError(() => parse(main, ["--no-x"])),
      /unknown argument --no-x/,
    );
  });

  it("rejects a missing required argument, naming it and its type", () => {
    assert.equal(
      argsError(() => parse(main, ["--y", "1"])),
      "missing required argument --x (number) for task t",
    );
    const both = argsError(() => parse([p("a", N), p("b", S)], []));
    assert.match(both, /missing required arguments --a \(number\), --b \(string\)/);
  });

  it("rejects a missing value", () => {
    assert.match(
      argsError(() => parse(main, ["--x"])),
      /missing value for argument --x of task t \(expected NUMBER\)/,
    );
    assert.match(
      argsError(() => parse(main, ["--x", "--y", "2"])),
      /missing value for argument --x/,
    );
  });

  it("rejects a value given twice for a non-array", () => {
    assert.equal(
      argsError(() => parse(main, ["--x", "1", "--x", "2"])),
      "argument --x of task t was given more than once",
    );
    const flag = [p("flag", B, { optional: true })];
    assert.match(
      argsError(() => parse(flag, ["--flag", "--no-flag"])),
      /--flag .*more than once/,
    );
  });

  it("rejects positional words and ambiguous names", () => {
    assert.match(
      argsError(() => parse(main, ["1"])),
      /unexpected argument "1" for task t/,
    );
    const params = [p("a_b", N), p("aB", N)];
    assert.match(
      argsError(() => parse(params, ["--a-b", "1"])),
      /--a-b .*ambiguous.*--a_b or --aB/,
    );
    assert.deepEqual(parse(params, ["--a_b", "1", "--aB", "2"]), [1, 2]);
  });

  it("keeps the error's argument name", () => {
    try {
      parse(main, ["--x", "abc"]);
      assert.fail("should throw");
    } catch (err) {
      assert.ok(err instanceof TaskArgsError);
      assert.equal(err.argument, "x");
      assert.equal(err.name, "TaskArgsError");
      assert.equal(
        err.message,
        'invalid value "abc" for argument --x of task t: expected a number',
      );
    }
  });
});

describe("formatTaskHelp", () => {
  it("prints a usage line and one line per parameter", () => {
    const help = formatTaskHelp("acme.main", sig(WORKFLOW, "main", "main"), "Adds things up.");
    assert.equal(
      help,
      [
        "Usage: redun run FILE acme.main --x NUMBER [--y NUMBER] [--names STRING...] [--input FILE]",
        "",
        "Adds things up.",
        "",
        "Arguments:",
        "  --x NUMBER         number, required",
        "  --y NUMBER         number, default: 2",
        "  --names STRING...  string[], default: []",
        "  --input FILE       File, optional",
      ].join("\n"),
    );
  });

  it("shows flags, choices and rest parameters", () => {
    const help = formatTaskHelp("h", [
      { name: "flag", type: B, optional: true, rest: false },
      {
        name: "mode",
        type: { kind: "choice", values: ["fast", "slow"] },
        typeText: '"fast" | "slow"',
        optional: true,
        defaultText: '"fast"',
        rest: false,
      },
      { name: "xs", type: { kind: "array", element: UNK }, optional: true, rest: true },
    ]);
    assert.match(
      help,
      /^Usage: redun run FILE h \[--flag\] \[--mode \{fast,slow\}\] \[--xs VALUE\.\.\.\]$/m,
    );
    assert.match(help, /--flag \/ --no-flag +boolean, optional/);
    assert.match(help, /--mode \{fast,slow\} +"fast" \| "slow", default: "fast"/);
    assert.match(help, /--xs VALUE\.\.\. +unknown\[\], repeatable/);
    assert.equal(formatTaskHelp("none", []), "Usage: redun run FILE none");
  });
});
