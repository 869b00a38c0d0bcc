/**
 * `parseIni` and `shellSplit` against the Python originals they imitate: each INI text
 * is fed to `configparser.ConfigParser(interpolation=ExtendedInterpolation())` and to
 * `parseIni`, each shell-like string to `shlex.split` and to `shellSplit`, and the
 * results must agree. redun's own addition, the `${NAME}` fallback to the environment,
 * is checked on its own. (One python process answers every INI text: texts are
 * registered with `ini()` when the tests are declared.)
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { ConfigError } from "../src/config/config-error.ts";
import { parseIni } from "../src/config/ini.ts";
import type { IniData } from "../src/config/ini.ts";
import { shellSplit } from "../src/config/option-schema.ts";

// Reads a JSON list of INI texts from stdin (as bytes, so that "\r" is not turned into
// "\n") and prints, for each, what configparser makes of it: every section's interpolated
// items, the raw DEFAULT options and the interpolated DEFAULT items; or the error. One
// python process answers every case (its start-up takes most of a second).
const PYTHON_INI = `
import configparser, json, sys
results = []
for text in json.loads(sys.stdin.buffer.read().decode("utf-8")):
    parser = configparser.ConfigParser(interpolation=configparser.ExtendedInterpolation())
    try:
        parser.read_string(text, source="test.ini")
        out = {
            "sections": parser.sections(),
            "values": {s: dict(parser.items(s)) for s in parser.sections()},
            "defaults": dict(parser.defaults()),
        }
    except configparser.Error as e:
        out = {"error": type(e).__name__, "message": str(e)}
    else:
        try:
            out["DEFAULT"] = dict(parser.items("DEFAULT"))
        except configparser.Error as e:
            out["DEFAULT"] = {"error": type(e).__name__, "message": str(e)}
    results.append(out)
print(json.dumps(results))
`;

// Reads a JSON list of strings, prints shlex.split of each (or the error).
const PYTHON_SHLEX = `
import json, shlex, sys
out = []
for text in json.loads(sys.stdin.buffer.read().decode("utf-8")):
    try:
        out.append(shlex.split(text))
    except ValueError as e:
        out.append({"error": str(e)})
print(json.dumps(out))
`;

type Items = Record<string, string>;
type PythonError = { error: string; message: string };
type PythonIni =
  | PythonError
  | {
      sections: string[];
      values: Record<string, Items>;
      defaults: Items;
      DEFAULT: Items | PythonError;
    };

function runPython(script: string, input: string): unknown {
  const result = spawnSync("python3", ["-c", script], {
    input,
    encoding: "utf8",
    env: { ...process.env, PYTHONIOENCODING: "utf-8" },
  });
  assert.equal(result.status, 0, `python3 failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

/** Every INI text the tests compare, registered when the tests are declared. */
const TEXTS = new Set<string>();
let pythonResults: Map<string, PythonIni> | undefined;

/** Registers `text` for the one python run; returns it. */
function ini(text: string): string {
  TEXTS.add(text);
  return text;
}

/** What Python's configparser makes of `text` (which must have been registered). */
function python(text: string): PythonIni {
  if (!pythonResults) {
    const texts = [...TEXTS];
    const results = runPython(PYTHON_INI, JSON.stringify(texts)) as PythonIni[];
    pythonResults = new Map(texts.map((t, i) => [t, results[i]!]));
  }
  const result = pythonResults.get(text);
  assert.ok(result, `text not registered with ini(): ${JSON.stringify(text)}`);
  return result;
}

const SOURCE = "test.ini";

/** Ours, with an empty environment unless given (Python has no environment fallback). */
function ours(text: string, env: Record<string, string> = {}): IniData {
  return parseIni(text, { source: SOURCE, env });
}

/**
 * Our interpolated DEFAULT items: those of an extra, empty section, which sees exactly
 * the DEFAULT options (configparser interpolates DEFAULT the same way).
 */
function oursDefault(text: string): Items {
  const probe = "probe for DEFAULT";
  return ours(`${text}\n[${probe}]\n`).values[probe]!;
}

/** Asserts that configparser and parseIni read `text` the same way; returns ours. */
function same(text: string): IniData {
  const expected = python(text);
  assert.ok(!("error" in expected), `configparser rejected it: ${JSON.stringify(expected)}`);
  const actual = ours(text);
  assert.deepEqual(actual.sections, expected.sections, "sections");
  assert.deepEqual(actual.values, expected.values, "interpolated items of each section");
  assert.deepEqual(actual.defaults, expected.defaults, "raw DEFAULT options");
  if ("error" in expected.DEFAULT) {
    assert.throws(() => oursDefault(text), ConfigError, "interpolated DEFAULT");
  } else {
    assert.deepEqual(oursDefault(text), expected.DEFAULT, "interpolated DEFAULT");
  }
  return actual;
}

/**
 * Asserts that configparser raises `pythonError` and parseIni a ConfigError whose message
 * matches every pattern.
 */
function bothFail(text: string, pythonError: string, ...patterns: RegExp[]): ConfigError {
  const expected = python(text);
  assert.ok("error" in expected, `configparser accepted it: ${JSON.stringify(expected)}`);
  assert.equal(expected.error, pythonError, expected.message);
  let caught: unknown;
  try {
    ours(text);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  for (const pattern of patterns) assert.match(caught.message, pattern);
  return caught;
}

/** INI text from lines, registered for the python run. */
const lines = (...l: string[]): string => ini(l.join("\n") + "\n");

describe("parseIni agrees with configparser (ExtendedInterpolation)", () => {
  const cases: Record<string, string> = {
    "multi-line values: continuation lines, blank lines inside, trailing blanks dropped": lines(
      "[s]",
      "paths =",
      "    /a",
      "      /b deeper indent is still one line",
      "",
      "    /c after a blank line",
      "",
      "",
      "   ",
      "next = 1",
      "  key = value on a continuation line is text",
      "\tafter a tab",
      "last = x",
      "",
      "",
    ),
    "comment lines inside a value are dropped; blank lines are kept": lines(
      "[s]",
      "value = first",
      "  # a comment line inside the value",
      "  ; another one",
      "",
      "# an unindented comment does not end the value either",
      "  second",
      "other = 2",
    ),
    "full-line # and ; comments anywhere; inline ones are part of the value": lines(
      "# leading comment",
      "; another",
      "   # indented comment before any section",
      "[s]",
      "# between options",
      "a = 1 # not a comment",
      "b = 2 ; nor this",
      "c = #value",
      "d = ;value",
      "; trailing comment",
    ),
    "indented section headers, and indented option lines under them": lines(
      "  [a]",
      "  x = 1",
      "    x continued",
      "  y = 2",
      "\t[b]",
      "z = 3",
    ),
    "an indented [header] right after an option is a continuation line": lines(
      "[a]",
      "x = 1",
      "",
      "  [b]",
      "y = 2",
    ),
    "header forms: trailing text, inner spaces, brackets, a key-looking header": lines(
      "[a] ; trailing text is ignored",
      "x = 1",
      "[ spaced name ]",
      "y = 2",
      "[x] = 1",
      "z = 3",
      "[outer [inner]]",
      "w = ${ spaced name :y}",
    ),
    "DEFAULT: inherited, overridden, interpolated in each section's context": lines(
      "[DEFAULT]",
      "base = /data",
      "out = ${base}/out",
      "who = ${name}",
      "name = default",
      "[a]",
      "x = 1",
      "[b]",
      "base = /other",
      "name = b",
      "[c]",
      "out = ${base}/mine",
    ),
    "DEFAULT after the sections, and reopened": lines(
      "[a]",
      "x = ${late}",
      "[DEFAULT]",
      "late = 1",
      "[b]",
      "y = ${later}",
      "[DEFAULT]",
      "later = 2",
    ),
    "${key} from the same section and from DEFAULT": lines(
      "[DEFAULT]",
      "home = /home/alice",
      "[paths]",
      "data = ${home}/data",
      "cache = ${data}/cache",
      "both = ${home}+${data}",
    ),
    "${section:key}, also for a key the section inherits from DEFAULT": lines(
      "[DEFAULT]",
      "root = /r",
      "[paths]",
      "data = ${root}/data",
      "[job]",
      "dir = ${paths:data}/job",
      "inherited = ${paths:root}",
      "capital = ${paths:DATA}",
    ),
    "${DEFAULT:key}, even where the section overrides the key": lines(
      "[DEFAULT]",
      "name = from-default",
      "ref = ${name}",
      "[a]",
      "name = own",
      "mine = ${name}",
      "theirs = ${DEFAULT:name}",
      "theirs_ref = ${DEFAULT:ref}",
      "ref_here = ${ref}",
    ),
    "chained interpolation across sections, each step in its own section's context": lines(
      "[DEFAULT]",
      "env = prod",
      "[one]",
      "env = one",
      "v = ${env}-one",
      "[two]",
      "v = ${one:v}/two",
      "[three]",
      "v = ${two:v}/three",
      "w = ${DEFAULT:env}:${three:v}",
    ),
    "$$ is a dollar sign; after it nothing is interpolated": lines(
      "[a]",
      "price = $$5",
      "two = $$$$",
      "literal = $${not_a_reference}",
      "mixed = $$${x}$$",
      "x = 1",
      "[b]",
      "from_a = ${a:price} and ${a:literal}",
    ),
    "keys are case-insensitive (lowercased), section names are not": lines(
      "[DEFAULT]",
      "Root = /r",
      "[Sec]",
      "Key = 1",
      "ROOT = /s",
      "ref = ${KEY}/${root}",
      "[sec]",
      "key = 2",
      "other = ${Sec:KEY}",
    ),
    "values with = and :, and key: value syntax": lines(
      "[a]",
      "url = postgresql://host:5432/db?x=1",
      "colon: value",
      "spaced : value",
      "tight:value",
      "a:b = c",
      "d=e:f",
      "double == x",
      "http://x = 1",
      "t = 12:30",
    ),
    "empty values, with and without continuation lines": lines(
      "[a]",
      "e1 =",
      "e2:",
      "e3 =   ",
      "e4 =",
      "    then a line",
      "e5 = ${e1}",
    ),
    "spaces and tabs around keys and values; spaces inside keys": lines(
      "[a]",
      "  key   =   value  ",
      "my key = v",
      "tabbed\t=\tx\t",
      "inner   spaces = kept  inside  ",
    ),
    "a chain of 11 references is within configparser's depth of 10": lines(
      "[a]",
      ...Array.from({ length: 10 }, (_, i) => `k${i + 1} = \${k${i + 2}}`),
      "k11 = end",
    ),
    "Windows line endings": ini("[a]\r\nx = 1\r\ny =\r\n  2\r\n\r\n  3\r\n"),
    "no sections at all: only comments and blank lines": lines("# nothing", "", "; here"),
    "non-ASCII keys and values": lines("[données]", "Clé = valeur €", "ref = ${CLÉ}"),
  };
  for (const [name, text] of Object.entries(cases)) test(name, () => void same(text));

  test("the multi-line value is joined with \n exactly as configparser does", () => {
    const ini = same(
      cases["multi-line values: continuation lines, blank lines inside, trailing blanks dropped"]!,
    );
    assert.equal(
      ini.values.s!.paths,
      "\n/a\n/b deeper indent is still one line\n\n/c after a blank line",
    );
    assert.equal(ini.values.s!.next, "1\nkey = value on a continuation line is text\nafter a tab");
  });

  test("ownKeys lists only the keys each section sets itself", () => {
    const ini = same(
      cases["DEFAULT: inherited, overridden, interpolated in each section's context"]!,
    );
    assert.deepEqual(ini.ownKeys, { a: ["x"], b: ["base", "name"], c: ["out"] });
  });

  const crText = ini("[a]\nx = a\rb\ny = c\u2028d\n");
  test("a lone \\r or \\u2028 inside a line is part of the value", () => void same(crText));

  const protoKeys = lines(
    "[a]",
    "constructor = c",
    "__proto__ = p",
    "x = ${constructor}-${__proto__}",
  );
  test("keys named like Object.prototype members", () => void same(protoKeys));

  const protoSection = lines("[__proto__]", "x = 1");
  test("a section named __proto__", () => void same(protoSection));
});

describe("parseIni agrees with configparser: more cases", () => {
  const cases: Record<string, string> = {
    "multi-line values: indented continuation, kept blank lines, stripped trailing ones": [
      "[s]",
      "paths =",
      "    /a",
      "      /b (deeper indent kept as one line)",
      "",
      "    /c after a blank line",
      "",
      "",
      "next = 1",
      "  continued",
      "last = x",
      "",
    ].join("\n"),
    "comments: full lines with # and ;, indented, inside a value; inline ones are text": [
      "# top comment",
      "; another",
      "[s]",
      "a = 1 # not a comment",
      "b = 2 ; nor this",
      "  # an indented comment line is still a comment",
      "c =",
      "  one",
      "  # dropped from the value",
      "  ; this too",
      "  two",
      "d = #value",
    ].join("\n"),
    "DEFAULT: inherited, overridden, and interpolated in each section's context": [
      "[DEFAULT]",
      "base = /data",
      "out = ${base}/out",
      "[a]",
      "x = 1",
      "[b]",
      "base = /other",
      "[c]",
      "out = ${base}/mine",
    ].join("\n"),
    "references to other sections, nested, and to DEFAULT": [
      "[DEFAULT]",
      "root = /r",
      "[paths]",
      "data = ${root}/data",
      "cache = ${data}/cache",
      "[job]",
      "dir = ${paths:cache}/job",
      "root_again = ${DEFAULT:root}",
      "upper = ${PATHS:cache}",
      "[PATHS]",
      "cache = capital section",
    ].join("\n"),
    "$$ is a dollar sign, also next to references": [
      "[s]",
      "price = $$5",
      "two = $$$$",
      "mixed = $${x} and ${x}$$",
      "x = 1",
    ].join("\n"),
    "keys are case-insensitive, sections are not": [
      "[Sec]",
      "MyKey = 1",
      "ref = ${MYKEY}",
      "other = ${sec2:KEY}",
      "[sec2]",
      "key = 2",
      "[sec]",
      "MyKey = lower section",
    ].join("\n"),
    "values with = and : in them; either delimiter": [
      "[s]",
      "url = postgresql://host:5432/db?a=b",
      "colon: x = y",
      "a:b = c",
      "spaced   =   value with  inner  spaces   ",
      "eq==",
      "tab\t=\ttabbed",
    ].join("\n"),
    "empty values": ["[s]", "a =", "b:", "c = ", "d =", "  starts on the next line", "e="].join(
      "\n",
    ),
    "DEFAULT may be reopened; an indented header is a continuation line": [
      "[DEFAULT]",
      "a = 1",
      "[s]",
      "k = v",
      "  [not a section]",
      "[DEFAULT]",
      "b = 2",
    ].join("\n"),
    "section headers: greedy to the last ], trailing text ignored, any characters": [
      "[executors.batch] trailing words",
      "type = aws_batch",
      "[a]b]",
      "x = 1",
      "[with spaces and : = chars]",
      "y = 2",
      "  [indented header]",
      "z = 3",
    ].join("\n"),
    "CRLF line endings": "[s]\r\na = 1\r\nb =\r\n  two\r\n\r\n  three\r\n",
    "interpolation nested exactly to the depth limit": [
      "[s]",
      ...Array.from({ length: 10 }, (_, i) => `a${i} = \${a${i + 1}}+`),
      "a10 = end",
    ].join("\n"),
    "whitespace: indented keys, tabs, spaces around delimiters and in keys": [
      "  [s]",
      "  indented = 1",
      "\ttabbed key\t:\tvalue",
      "two words = x",
    ].join("\n"),
  };
  for (const text of Object.values(cases)) ini(text);
  for (const [name, text] of Object.entries(cases)) {
    test(name, () => {
      same(text);
    });
  }

  test("a spot check of what the cases mean", () => {
    const data = same(
      cases["DEFAULT: inherited, overridden, and interpolated in each section's context"]!,
    );
    assert.equal(data.values.a!.out, "/data/out");
    assert.equal(data.values.b!.out, "/other/out");
    assert.equal(data.values.c!.out, "/data/mine");
    assert.deepEqual(data.defaults, { base: "/data", out: "${base}/out" });
    assert.deepEqual(data.ownKeys, { a: ["x"], b: ["base"], c: ["out"] });
    const multi = same(
      cases["multi-line values: indented continuation, kept blank lines, stripped trailing ones"]!,
    );
    assert.equal(
      multi.values.s!.paths,
      "\n/a\n/b (deeper indent kept as one line)\n\n/c after a blank line",
    );
  });
});

describe("parseIni errors agree with configparser and name the place", () => {
  const chain12 = Array.from({ length: 11 }, (_, i) => `k${i + 1} = \${k${i + 2}}`);
  const cases: [name: string, text: string, pythonError: string, ...patterns: RegExp[]][] = [
    [
      "a duplicate section names the file and line",
      lines("[a]", "x = 1", "[b]", "[a]"),
      "DuplicateSectionError",
      /test\.ini, line 4\b/,
      /\[a\]/,
    ],
    [
      "a duplicate key (in any case) names the file and line",
      lines("[a]", "Key = 1", "other = 2", "key = 3"),
      "DuplicateOptionError",
      /test\.ini, line 4\b/,
      /"key"/,
      /\[a\]/,
    ],
    [
      "a duplicate key in a reopened DEFAULT names the file and line",
      lines("[DEFAULT]", "x = 1", "[a]", "[DEFAULT]", "x = 2"),
      "DuplicateOptionError",
      /test\.ini, line 5\b/,
      /"x"/,
    ],
    [
      "an option line before any section names the file and line",
      lines("# comment", "", "x = 1", "[a]"),
      "MissingSectionHeaderError",
      /test\.ini, line 3\b/,
    ],
    [
      "a line without = or : names the file and line",
      lines("[a]", "x = 1", "just words"),
      "ParsingError",
      /test\.ini, line 3\b/,
      /just words/,
    ],
    [
      "a line with an empty key names the file and line",
      lines("[a]", "= value"),
      "ParsingError",
      /test\.ini, line 2\b/,
    ],
    ["[] is not a section header", lines("[a]", "[]"), "ParsingError", /test\.ini, line 2\b/],
    [
      "an unresolvable ${x} names the file, section and key",
      lines("[a]", "ok = 1", "x = ${nope}"),
      "InterpolationMissingOptionError",
      /test\.ini/,
      /\[a\] x\b/,
      /nope/,
    ],
    [
      "an unresolvable ${section:key} names the section and key",
      lines("[a]", "x = ${b:nope}", "[b]", "y = 1"),
      "InterpolationMissingOptionError",
      /\[a\] x\b/,
      /b:nope/,
    ],
    [
      "a reference to a missing section names the section and key",
      lines("[a]", "x = ${nosection:y}"),
      "InterpolationMissingOptionError",
      /\[a\] x\b/,
      /nosection/,
    ],
    [
      "section names in references are case-sensitive",
      lines("[a]", "x = ${B:y}", "[b]", "y = 1"),
      "InterpolationMissingOptionError",
      /\[a\] x\b/,
    ],
    [
      "a missing reference reached through another section names a section and key",
      lines("[b]", "y = 1", "[a]", "x = ${c:z}", "[c]", "z = ${nope}"),
      "InterpolationMissingOptionError",
      /\[(a|c)\] (x|z)\b/,
    ],
    [
      "a bare $ at the end names the section and key",
      lines("[a]", "price = 5$"),
      "InterpolationSyntaxError",
      /\[a\] price\b/,
      /\$\$/,
    ],
    [
      "$NAME without braces names the section and key",
      lines("[a]", "var = $HOME"),
      "InterpolationSyntaxError",
      /\[a\] var\b/,
    ],
    [
      "an unclosed ${ names the section and key",
      lines("[a]", "open = ${unclosed"),
      "InterpolationSyntaxError",
      /\[a\] open\b/,
    ],
    [
      "an empty ${} names the section and key",
      lines("[a]", "empty = ${}"),
      "InterpolationSyntaxError",
      /\[a\] empty\b/,
    ],
    [
      "a bare $ in a referenced value is an error too",
      lines("[a]", "p = 5$", "[b]", "q = ${a:p}"),
      "InterpolationSyntaxError",
      /\[(a|b)\] (p|q)\b/,
    ],
    [
      "more than one : in a reference names the section and key",
      lines("[a]", "x = ${a:b:c}"),
      "InterpolationSyntaxError",
      /\[a\] x\b/,
    ],
    [
      "a reference cycle is a depth error naming the section and key",
      lines("[a]", "x = ${y}", "y = ${x}"),
      "InterpolationDepthError",
      /\[a\] (x|y)\b/,
      /10 levels/,
    ],
    [
      "a self-reference is a depth error",
      lines("[a]", "self = ${self}"),
      "InterpolationDepthError",
      /\[a\] self\b/,
    ],
    [
      "a cycle across sections is a depth error",
      lines("[a]", "x = ${b:y}", "[b]", "y = ${a:x}"),
      "InterpolationDepthError",
      /\[(a|b)\] (x|y)\b/,
    ],
    [
      "a chain of 12 references exceeds the depth of 10",
      lines("[a]", ...chain12, "k12 = end"),
      "InterpolationDepthError",
      /\[a\] k1\b/,
    ],
    [
      "${NAME} in DEFAULT that resolves nowhere fails in every section",
      lines("[DEFAULT]", "x = ${nope}", "[a]", "y = 1"),
      "InterpolationMissingOptionError",
      /\[a\] x\b/,
    ],
  ];
  for (const [name, text, pythonError, ...patterns] of cases) {
    test(name, () => void bothFail(text, pythonError, ...patterns));
  }

  const ctorText = lines("[a]", "x = ${constructor}");
  test("${constructor} (not an option) is an interpolation error", () =>
    void bothFail(ctorText, "InterpolationMissingOptionError", /\[a\] x\b/));
});

const TOO_DEEP = [
  "[s]",
  ...Array.from({ length: 11 }, (_, i) => `a${i} = \${a${i + 1}}+`),
  "a11 = end",
].join("\n");

/** [what, text, Python's error class, what our message must say]. */
const ERROR_CASES: [string, string, string, RegExp][] = [
  [
    "a duplicate section names the file, line and section",
    "[a]\nx = 1\n[b]\n[a]\n",
    "DuplicateSectionError",
    /^test\.ini, line 4: section \[a\] appears twice/,
  ],
  [
    "a duplicate key, in another case, names the line, key and section",
    "[a]\nkey = 1\nKEY = 2\n",
    "DuplicateOptionError",
    /^test\.ini, line 3: key "key" appears twice in \[a\]/,
  ],
  [
    "a duplicate key across a reopened DEFAULT",
    "[DEFAULT]\nkey = 1\n[DEFAULT]\nkey = 2\n",
    "DuplicateOptionError",
    /^test\.ini, line 4: key "key" appears twice in \[DEFAULT\]/,
  ],
  [
    "a line outside any section",
    "# comment\nkey = 1\n[a]\n",
    "MissingSectionHeaderError",
    /^test\.ini, line 2: "key = 1" is outside any section/,
  ],
  [
    "a line that is not key = value",
    "[backend]\ndb_uri\n",
    "ParsingError",
    /^test\.ini, line 2: cannot read "db_uri" in \[backend\]/,
  ],
  [
    "a line without a key",
    "[a]\nx = 1\n= value\n",
    "ParsingError",
    /^test\.ini, line 3: cannot read "= value" in \[a\]/,
  ],
  [
    "an unresolvable ${name} names the section and key",
    "[a]\nx = ${nope}\n",
    "InterpolationMissingOptionError",
    /^test\.ini: \[a\] x: \$\{nope\} is not defined in \[a\], \[DEFAULT\] or the environment/,
  ],
  [
    "an unresolvable ${section:key}",
    "[a]\nx = ${b:y}\n[b]\nz = 1\n",
    "InterpolationMissingOptionError",
    /^test\.ini: \[a\] x: \$\{b:y\} is not defined \(no key "y" in \[b\]\)/,
  ],
  [
    "a reference to a missing section",
    "[a]\nx = ${nosuch:y}\n",
    "InterpolationMissingOptionError",
    /^test\.ini: \[a\] x: \$\{nosuch:y\} is not defined \(no section \[nosuch\]\)/,
  ],
  [
    "a missing reference deep in a chain names the key that was asked for",
    "[a]\nx = ${b:y}\n[b]\ny = ${z}\n",
    "InterpolationMissingOptionError",
    /^test\.ini: \[a\] x: \$\{z\} is not defined in \[b\]/,
  ],
  [
    "a bare $ at the end",
    "[a]\nprice = 5$\n",
    "InterpolationSyntaxError",
    /^test\.ini: \[a\] price: "\$" must be followed by "\$" or "\{name\}"/,
  ],
  [
    "a shell-style $NAME",
    "[a]\nhome = $HOME\n",
    "InterpolationSyntaxError",
    /^test\.ini: \[a\] home: "\$" must be followed/,
  ],
  [
    "an unclosed ${",
    "[a]\nx = ${unclosed\n",
    "InterpolationSyntaxError",
    /^test\.ini: \[a\] x: "\$" must be followed/,
  ],
  [
    "an empty ${}",
    "[a]\nx = ${}\n",
    "InterpolationSyntaxError",
    /^test\.ini: \[a\] x: "\$" must be followed/,
  ],
  [
    "more than one colon in a reference",
    "[a]\nx = ${a:b:c}\n",
    "InterpolationSyntaxError",
    /^test\.ini: \[a\] x: more than one ":" in \$\{a:b:c\}/,
  ],
  [
    "a reference cycle",
    "[a]\nx = ${y}\ny = ${x}\n",
    "InterpolationDepthError",
    /^test\.ini: \[a\] x: interpolation is nested more than 10 levels deep/,
  ],
  [
    "nesting one level past the limit",
    TOO_DEEP,
    "InterpolationDepthError",
    /^test\.ini: \[s\] a0: interpolation is nested more than 10 levels deep/,
  ],
];
for (const [, text] of ERROR_CASES) ini(text);

describe("parseIni errors agree with configparser: whole messages", () => {
  for (const [name, text, pythonError, pattern] of ERROR_CASES) {
    test(name, () => void bothFail(text, pythonError, pattern));
  }
  test("an error in an inherited DEFAULT value names the section that inherits it", () => {
    assert.throws(
      () => ours("[DEFAULT]\nx = ${y}\n[a]\ny = 1\n[b]\n"),
      /^ConfigError: test\.ini: \[b\] x: \$\{y\} is not defined/,
    );
  });
});

describe("${NAME} falls back to the environment (redun's addition)", () => {
  const env = { REDUN_ROLE: "arn:aws:iam::1:role/r", SHADOWED: "from env", lower: "lower env" };

  test("a name in neither the section nor DEFAULT comes from the environment, as written", () => {
    const data = ours(
      "[executors.batch]\nrole = ${REDUN_ROLE}\nboth = ${lower}-${REDUN_ROLE}\n",
      env,
    );
    assert.equal(data.values["executors.batch"]!.role, "arn:aws:iam::1:role/r");
    assert.equal(data.values["executors.batch"]!.both, "lower env-arn:aws:iam::1:role/r");
  });
  test("the section wins over DEFAULT, which wins over the environment", () => {
    const text =
      "[DEFAULT]\nshadowed = default\n[a]\nv = ${SHADOWED}\n[b]\nshadowed = section\nv = ${SHADOWED}\n";
    const data = ours(text, env);
    assert.equal(data.values.a!.v, "default");
    assert.equal(data.values.b!.v, "section");
    assert.equal(ours("[a]\nv = ${SHADOWED}\n", env).values.a!.v, "from env");
  });
  test("environment names are case-sensitive", () => {
    assert.throws(
      () => ours("[a]\nv = ${redun_role}\n", env),
      /\[a\] v: \$\{redun_role\} is not defined/,
    );
  });
  test("a section:key reference never reads the environment", () => {
    assert.throws(
      () => ours("[a]\nv = ${b:REDUN_ROLE}\n[b]\n", env),
      /\$\{b:REDUN_ROLE\} is not defined \(no key/,
    );
  });
  test("values from the environment are not interpolated again", () => {
    assert.equal(ours("[a]\nv = ${X}\n", { X: "${literal}$" }).values.a!.v, "${literal}$");
  });

  test("a name in neither the section nor DEFAULT is read from env", () => {
    const ini = ours(lines("[a]", "dir = ${HOME_DIR}/work", "b = ${REDUN_ROLE}"), {
      HOME_DIR: "/home/alice",
      REDUN_ROLE: "arn:aws:iam::1:role/r",
    });
    assert.deepEqual(ini.values.a, { dir: "/home/alice/work", b: "arn:aws:iam::1:role/r" });
  });

  test("the section wins over DEFAULT and the environment; DEFAULT wins over the environment", () => {
    const text = lines(
      "[DEFAULT]",
      "home_dir = /from-default",
      "[own]",
      "home_dir = /from-section",
      "x = ${HOME_DIR}",
      "[inherits]",
      "x = ${HOME_DIR}",
    );
    const ini = ours(text, { HOME_DIR: "/from-env", home_dir: "/from-env-lower" });
    assert.equal(ini.values.own!.x, "/from-section");
    assert.equal(ini.values.inherits!.x, "/from-default");
  });

  test("the variable's name is used as written (environment names are case-sensitive)", () => {
    assert.equal(
      ours(lines("[a]", "x = ${Home_Dir}"), { Home_Dir: "/mixed" }).values.a!.x,
      "/mixed",
    );
    assert.throws(() => ours(lines("[a]", "x = ${home_dir}"), { HOME_DIR: "/upper" }), ConfigError);
  });

  test("an empty variable counts as set", () => {
    assert.equal(ours(lines("[a]", "x = <${EMPTY}>"), { EMPTY: "" }).values.a!.x, "<>");
  });

  test("the fallback applies in DEFAULT values and in values reached from other sections", () => {
    const text = lines(
      "[DEFAULT]",
      "root = ${ROOT_DIR}",
      "[a]",
      "x = ${root}/a",
      "[b]",
      "y = ${a:x}/b",
    );
    const ini = ours(text, { ROOT_DIR: "/r" });
    assert.equal(ini.values.a!.x, "/r/a");
    assert.equal(ini.values.b!.y, "/r/a/b");
    assert.equal(ini.defaults.root, "${ROOT_DIR}", "defaults stay as written");
  });

  test("a reference is a key first: ${ROOT} in DEFAULT's root is root itself (a cycle)", () => {
    // Keys are case-insensitive, so ${ROOT} names the key `root`, not the variable.
    assert.throws(
      () => ours(lines("[DEFAULT]", "root = ${ROOT}", "[a]", "x = 1"), { ROOT: "/r" }),
      (error: unknown) => error instanceof ConfigError && /levels/.test(error.message),
    );
  });

  test("${section:NAME} does not fall back to the environment", () => {
    assert.throws(
      () => ours(lines("[a]", "x = ${a:ROLE}"), { ROLE: "r" }),
      (error: unknown) => error instanceof ConfigError && /\[a\] x\b/.test(error.message),
    );
  });

  test("an unset variable is an error naming the section and key", () => {
    assert.throws(
      () => ours(lines("[executors.batch]", "role = ${REDUN_ROLE}"), {}),
      (error: unknown) =>
        error instanceof ConfigError &&
        /\[executors\.batch\] role\b/.test(error.message) &&
        /REDUN_ROLE/.test(error.message),
    );
  });

  test("without an env option, process.env is used", () => {
    const name = `REDUN_CFG_TEST_${process.pid}`;
    process.env[name] = "from-process";
    try {
      const ini = parseIni(`[a]\nx = \${${name}}\n`, { source: SOURCE });
      assert.equal(ini.values.a!.x, "from-process");
    } finally {
      delete process.env[name];
    }
  });
});

describe("shellSplit agrees with Python's shlex.split", () => {
  const inputs = [
    "",
    "   ",
    "a b  c",
    "  leading and trailing  ",
    "tabs\tand\nnewlines\r\nto",
    "'a b' c",
    '"a b" c',
    'a"b c"d',
    "x'y z'w",
    "''",
    '""',
    "a '' b \"\"",
    '"a \\"quoted\\" b"',
    "'it'\"'\"'s'",
    '"back\\\\slash"',
    '"keep \\n and \\$x"',
    "a\\ b",
    "\\'not quoted\\'",
    "'\\'",
    "'single \" inside'",
    '"double \' inside"',
    "#not a comment a#b",
    "**/*.ts \"my dir/*.ts\" 'other dir/**'",
    "a\\\nb",
    "ünïcode wörds",
    '"unclosed',
    "'unclosed",
    "trailing\\",
    '"ends in backslash\\',
  ];
  const expected = runPython(PYTHON_SHLEX, JSON.stringify(inputs)) as (
    string[] | { error: string }
  )[];
  inputs.forEach((input, i) => {
    const want = expected[i]!;
    test(JSON.stringify(input), () => {
      if (Array.isArray(want)) {
        assert.deepEqual(shellSplit(input), want);
      } else {
        assert.throws(() => shellSplit(input), Error, `shlex.split raised: ${want.error}`);
      }
    });
  });
});
