/**
 * Property-based tests (fast-check) of `redun.ini`: mutations of a realistic file (lines
 * dropped, doubled, swapped or cut, characters inserted, values replaced by junk) are read
 * as Python's configparser reads them (the same sections and values, or both refuse the
 * text), the configuration built from them is either usable or one `ConfigError` line, and
 * through the real `redun` each ends with exit 0 or one error line and exit 1, no stack
 * trace, within a per-case time limit. Fixed seeds: a failure prints its seed and case.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import { Config } from "../src/config/config.ts";
import { ConfigError } from "../src/config/config-error.ts";
import { parseIni } from "../src/config/ini.ts";
import { BIN, makeProject } from "./helpers/cli.ts";

const SEED = 8_675_309;

const BASE = [
  "[DEFAULT]",
  "root = data",
  "[backend]",
  "db_uri = sqlite:///redun.db",
  "max_value_size = 1000000",
  "db_retries = 5",
  "db_retry_max_wait = 2.5",
  "[scheduler]",
  "job_status_interval = 10",
  "ignore_warnings = namespace",
  'context = {"align": {"threads": 4}}',
  "[limits]",
  "db = 2",
  "[executors.default]",
  "type = local",
  "mode = thread",
  "max_workers = 4",
  "timeout = 30",
  "[executors.proc]",
  "type = local",
  "mode = process",
  "  # a comment",
  "path = ${root}/x",
  "  continued line",
];

/** Text that is likely to matter to an INI reader or to a typed option. */
const junk = fc.oneof(
  fc.constantFrom("[", "]", "=", ":", "${", "}", "$$", "${root}", "${nope}", "${a:b}", "#", ";"),
  fc.constantFrom("-1", "0", "1e400", "99999999999999999999", "NaN", "None", "yes", "\t", " "),
  fc.constantFrom("[backend]", "[foo]", "[executors.x]", "[executor.y]", "key", "type = docker"),
  fc.string({ maxLength: 6 }),
);

type Mutation =
  | { kind: "drop" | "double" | "indent"; line: number }
  | { kind: "swap"; line: number; other: number }
  | { kind: "cut"; line: number; at: number }
  | { kind: "insert"; line: number; at: number; text: string }
  | { kind: "value"; line: number; text: string }
  | { kind: "newline"; line: number; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constantFrom("drop", "double", "indent"),
    line: fc.nat(),
  }) as fc.Arbitrary<Mutation>,
  fc.record({
    kind: fc.constant("swap"),
    line: fc.nat(),
    other: fc.nat(),
  }) as fc.Arbitrary<Mutation>,
  fc.record({ kind: fc.constant("cut"), line: fc.nat(), at: fc.nat() }) as fc.Arbitrary<Mutation>,
  fc.record({
    kind: fc.constant("insert"),
    line: fc.nat(),
    at: fc.nat(),
    text: junk,
  }) as fc.Arbitrary<Mutation>,
  fc.record({ kind: fc.constant("value"), line: fc.nat(), text: junk }) as fc.Arbitrary<Mutation>,
  fc.record({ kind: fc.constant("newline"), line: fc.nat(), text: junk }) as fc.Arbitrary<Mutation>,
);

function mutate(mutations: Mutation[]): string {
  const lines = [...BASE];
  for (const m of mutations) {
    if (lines.length === 0) break;
    const i = m.line % lines.length;
    const line = lines[i]!;
    switch (m.kind) {
      case "drop":
        lines.splice(i, 1);
        break;
      case "double":
        lines.splice(i, 0, line);
        break;
      case "indent":
        lines[i] = `  ${line}`;
        break;
      case "swap": {
        const j = m.other % lines.length;
        [lines[i], lines[j]] = [lines[j]!, line];
        break;
      }
      case "cut":
        lines[i] = line.slice(0, m.at % (line.length + 1));
        break;
      case "insert": {
        const at = m.at % (line.length + 1);
        lines[i] = line.slice(0, at) + m.text + line.slice(at);
        break;
      }
      case "value": {
        const eq = line.indexOf("=");
        if (eq >= 0) lines[i] = `${line.slice(0, eq + 1)} ${m.text}`;
        break;
      }
      case "newline":
        lines.splice(i, 0, m.text);
        break;
    }
  }
  return lines.join("\n") + "\n";
}

const iniText = fc.array(mutation, { minLength: 1, maxLength: 4 }).map(mutate);

// For each INI text: configparser's sections and interpolated values, or that it refused.
const PYTHON = `
import configparser, json, sys
out = []
for text in json.loads(sys.stdin.buffer.read().decode("utf-8")):
    p = configparser.ConfigParser(interpolation=configparser.ExtendedInterpolation())
    try:
        p.read_string(text, source="redun.ini")
        out.append({"values": {s: dict(p.items(s)) for s in p.sections()}})
    except configparser.Error as e:
        out.append({"error": type(e).__name__})
print(json.dumps(out))
`;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe("fuzz: mutated redun.ini files", () => {
  const texts = fc.sample(iniText, { seed: SEED, numRuns: 300 });

  test("parseIni reads each text as Python's configparser does", () => {
    const python = spawnSync("python3", ["-c", PYTHON], {
      input: JSON.stringify(texts),
      encoding: "utf8",
      env: { ...process.env, PYTHONIOENCODING: "utf-8" },
    });
    assert.equal(python.status, 0, python.stderr);
    const expected = JSON.parse(python.stdout) as ({ values: unknown } | { error: string })[];
    let bothRead = 0;
    texts.forEach((text, i) => {
      const want = expected[i]!;
      const context = `seed ${SEED}, case ${i}:\n${text}\nconfigparser: ${JSON.stringify(want)}`;
      let values: unknown;
      try {
        values = parseIni(text, { source: "redun.ini", env: {} }).values;
      } catch (error) {
        assert.ok(error instanceof ConfigError, `${String(error)}\n${context}`);
        assert.doesNotMatch(error.message, /\n/, context);
        assert.ok(
          "error" in want,
          `we refused what configparser reads: ${error.message}\n${context}`,
        );
        return;
      }
      assert.ok(!("error" in want), `configparser refused what we read\n${context}`);
      assert.deepEqual(plain(values), want.values, context);
      bothRead++;
    });
    assert.ok(bothRead > 30, `only ${bothRead} texts were readable: the mutations are too harsh`);
  });

  test("a configuration from each text is usable, or one ConfigError line", () => {
    let usable = 0;
    texts.forEach((text, i) => {
      try {
        const config = Config.fromString(text, { configDir: "/tmp/redun-fuzz", env: {} });
        void config.backend;
        void config.scheduler;
        void config.limits;
        void config.executors;
        usable++;
      } catch (error) {
        assert.ok(
          error instanceof ConfigError,
          `seed ${SEED}, case ${i}: ${String(error)}\n${text}`,
        );
        assert.doesNotMatch(
          error.message,
          /\n/,
          `seed ${SEED}, case ${i}: ${error.message}\n${text}`,
        );
        assert.match(error.message, /redun\.ini|\[/, "the message names the file or section");
      }
    });
    assert.ok(usable > 10, `only ${usable} usable`);
  });

  test("through redun: exit 0, or exit 1 with one line and no stack trace", async () => {
    const dir = makeProject({ "wf.ts": "export {};\n", ".redun/redun.ini": "" });
    dirs.push(dir);
    // A few dozen spawned cases (about a second each), always the same ones.
    const cases = [BASE.join("\n") + "\n", ...texts.slice(0, 20)];
    let ok = 0;
    for (const [i, text] of cases.entries()) {
      fs.writeFileSync(path.join(dir, ".redun", "redun.ini"), text);
      const result = await run(dir, ["db", "info"], 90_000);
      const context = `seed ${SEED}, case ${i}:\n${text}\n${result.stderr}`;
      assert.ok(!result.timedOut, `no answer within the time limit: ${context}`);
      assert.doesNotMatch(result.stderr, /^\s+at /m, `a stack trace: ${context}`);
      if (result.code === 0) {
        ok++;
        continue;
      }
      assert.equal(result.code, 1, context);
      const lines = result.stderr.split("\n").filter((l) => l && !l.startsWith("[redun]"));
      assert.equal(lines.length, 1, context);
      assert.match(lines[0]!, /^redun: error: /, context);
    }
    assert.ok(ok >= 1, "the unmutated file works");
  });
});

/** Sections as plain objects (ours have no prototype), for comparison. */
function plain(values: unknown): unknown {
  return JSON.parse(JSON.stringify(values));
}

function run(
  cwd: string,
  args: string[],
  ms: number,
): Promise<{ code: number; stderr: string; timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { ...process.env, REDUN_CONFIG: "" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    let timedOut = false;
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, ms);
    child.once("error", reject);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stderr, timedOut });
    });
  });
}
