/**
 * The INI parser against Python's own `configparser.ConfigParser(interpolation=
 * ExtendedInterpolation())`: the same text goes to both, and the results must agree.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { ConfigError } from "../src/config/errors.ts";
import { parseIni, type IniData } from "../src/config/ini.ts";

// Reads a JSON list of texts, answers a JSON list of results (one python for all cases).
const PYTHON = `
import configparser, json, sys
results = []
for text in json.load(sys.stdin):
    parser = configparser.ConfigParser(interpolation=configparser.ExtendedInterpolation())
    try:
        parser.read_string(text, source="test.ini")
        results.append({
            "sections": parser.sections(),
            "values": {s: dict(parser.items(s)) for s in parser.sections()},
            "defaults": dict(parser.defaults()),
        })
    except configparser.Error as e:
        results.append({"error": type(e).__name__, "message": str(e)})
print(json.dumps(results))
`;

type PythonResult =
  Pick<IniData, "sections" | "values" | "defaults"> | { error: string; message: string };

/** What Python's configparser makes of each text. */
function runPython(texts: string[]): Map<string, PythonResult> {
  const result = spawnSync("python3", ["-c", PYTHON], {
    input: JSON.stringify(texts),
    encoding: "utf8",
  });
  assert.equal(result.status, 0, result.stderr);
  const results = JSON.parse(result.stdout) as PythonResult[];
  return new Map(texts.map((text, i) => [text, results[i]!]));
}

let pythonResults: Map<string, PythonResult> | undefined;
/** Every text the comparisons use, so that one python process answers them all. */
const ALL_TEXTS: string[] = [];

function python(text: string): PythonResult {
  pythonResults ??= runPython(ALL_TEXTS);
  const found = pythonResults.get(text);
  assert.ok(found, `text not registered for python: ${JSON.stringify(text)}`);
  return found;
}

/** Ours, with an empty environment so that only the file counts (as in Python). */
function ours(text: string, env: Record<string, string> = {}): IniData {
  return parseIni(text, { source: "test.ini", env });
}

/** Asserts that both parsers read `text` the same way; returns ours. */
function same(text: string): IniData {
  const expected = python(text);
  assert.ok(!("error" in expected), `python failed: ${JSON.stringify(expected)}`);
  const actual = ours(text);
  assert.deepEqual(
    { sections: actual.sections, values: actual.values, defaults: actual.defaults },
    expected,
  );
  return actual;
}

/** Asserts that Python raises `pythonError` and we raise a ConfigError matching `pattern`. */
function bothFail(text: string, pythonError: string, pattern: RegExp): void {
  const expected = python(text);
  assert.ok("error" in expected, `python accepted it: ${JSON.stringify(expected)}`);
  assert.equal(expected.error, pythonError, expected.message);
  assert.throws(
    () => ours(text),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error));
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe("parseIni agrees with Python's configparser", () => {
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
  ALL_TEXTS.push(...Object.values(cases));
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
ALL_TEXTS.push(...ERROR_CASES.map(([, text]) => text));

describe("parseIni errors (Python fails too)", () => {
  for (const [name, text, pythonError, pattern] of ERROR_CASES) {
    test(name, () => bothFail(text, pythonError, pattern));
  }
  test("an error in an inherited DEFAULT value names the section that inherits it", () => {
    assert.throws(
      () => ours("[DEFAULT]\nx = ${y}\n[a]\ny = 1\n[b]\n"),
      /^ConfigError: test\.ini: \[b\] x: \$\{y\} is not defined/,
    );
  });
});

describe("parseIni falls back to the environment (redun's extension)", () => {
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
  test("the environment defaults to process.env", () => {
    process.env.REDUN_INI_TEST_VAR = "from process";
    try {
      const data = parseIni("[a]\nv = ${REDUN_INI_TEST_VAR}\n", { source: "x.ini" });
      assert.equal(data.values.a!.v, "from process");
    } finally {
      delete process.env.REDUN_INI_TEST_VAR;
    }
  });
});
