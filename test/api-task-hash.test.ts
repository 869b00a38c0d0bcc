/**
 * Task hashes follow the task's own TypeScript source: unrelated edits elsewhere in the file
 * (a clashing name that makes esbuild rename the function, renamed neighbours, comments,
 * formatting) keep every hash; an edit inside one task changes that task's hash only. Hashes
 * are computed in separate processes and threads, as the scheduler and its workers would.
 */
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

import { task } from "../src/index.ts";
import { allTasks } from "../src/api/task.ts";
import { analyzeSource } from "../src/api/source-find.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ENGINE = pathToFileURL(path.join(ROOT, "src", "index.ts")).href;
const TASKS = pathToFileURL(path.join(ROOT, "src", "api", "task.ts")).href;
const LOADER = pathToFileURL(path.join(ROOT, "src", "loader", "register.mjs")).href;

const CACHE = fs.mkdtempSync(path.join(os.tmpdir(), "redun-hash-cache-"));
const dirs: string[] = [CACHE];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** A temp folder holding ES modules. */
function project(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redun-hash-"));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, "package.json"), '{ "type": "module" }\n');
  return dir;
}

interface TaskFacts {
  hash: string;
  source: string;
  compiled: string;
}
type Facts = Record<string, TaskFacts>;

// Prints the hash, normalized source and compiled text of the tasks a module defines.
const REPORT = `
import { pathToFileURL } from "node:url";
const { allTasks } = await import(${JSON.stringify(TASKS)});
const file = process.argv[2];
await import(pathToFileURL(file).href);
const facts = {};
for (const t of allTasks()) {
  if (t.modulePath === file) {
    facts[t.fullname] = { hash: t.hash, source: t.source, compiled: t.func.toString() };
  }
}
console.log(JSON.stringify(facts));
`;

// The same, from a worker thread, which loads TypeScript support as redun's workers do.
const WORKER = `
import { parentPort, workerData } from "node:worker_threads";
import { pathToFileURL } from "node:url";
await import(${JSON.stringify(LOADER)});
const { allTasks } = await import(${JSON.stringify(TASKS)});
await import(pathToFileURL(workerData).href);
const facts = {};
for (const t of allTasks()) {
  if (t.modulePath === workerData) facts[t.fullname] = { hash: t.hash, source: t.source, compiled: t.func.toString() };
}
parentPort.postMessage(facts);
`;

/** Hashes of a workflow's tasks, computed in a new `node --import tsx` process. */
function inChild(file: string): Facts {
  const dir = project();
  const script = path.join(dir, "report.ts");
  fs.writeFileSync(script, REPORT);
  const result = spawnSync(process.execPath, ["--import", "tsx", script, file], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, REDUN_CACHE_DIR: CACHE },
  });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").pop()!) as Facts;
}

/** Hashes of a workflow's tasks, computed in a worker thread of this process. */
async function inWorker(file: string): Promise<Facts> {
  const dir = project();
  const script = path.join(dir, "worker.mjs");
  fs.writeFileSync(script, WORKER);
  const worker = new Worker(script, { workerData: file });
  try {
    return await new Promise<Facts>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
  } finally {
    await worker.terminate();
  }
}

/** Writes a workflow file into a new folder. */
function writeWorkflow(text: string, name = "workflow.ts"): string {
  const file = path.join(project(), name);
  fs.writeFileSync(file, text);
  return file;
}

const BASE = `import { namespace } from "${ENGINE}";
const { task: t } = namespace("wf");

export const add = t(function add(a: number, b: number) {
  return a + b;
});

function helper(x: number) {
  return x * 2;
}

export const mul = t({ name: "mul" }, (a: number, b: number): number => a * helper(b));

export const greet = t(function greet(name: string = 'world', opts: { loud: boolean } = { loud: false, }) {
  const text = \`hello \${name}\`;
  return opts.loud ? text.toUpperCase() : text;
});

export const one = namespace("one").task(function run(x: number) {
  return x + 1;
});
export const two = namespace("two").task(function run(x: number) {
  return x + 2;
});
`;

// Unrelated edits: a \`const add2\` (esbuild then renames the function \`add\` differently), a
// renamed neighbour, comments inside and outside tasks, other formatting and quotes, no
// semicolons, no trailing comma.
const NEIGHBOURS = `// A workflow.
import { namespace } from "${ENGINE}"
const { task: t } = namespace("wf")
const add2 = 1, add3 = 2
export const unrelated = add2 + add3

/** Adds. */
export const add = t(
  function add(a: number, b: number) {
    // the sum
    return a + b
  },
)

function helper(x: number) {
  return x * 2
}
export function renamedNeighbour() { return 3 }

export const mul = t({ name: "mul" }, (a: number, b: number): number =>
  a * helper(b))

export const greet = t(function greet(
  name: string = "world",
  opts: { loud: boolean } = { loud: false },
) {
  const text = \`hello \${name}\` /* greeting */
  return opts.loud
    ? text.toUpperCase()
    : text
})

export const one = namespace("one").task(function run(x: number) { return x + 1 })
export const two = namespace("two").task(function run(x: number) { return x + 2 })
`;

const EDITED = BASE.replace("hello ", "hi ");

describe("task hash: the task's own source", () => {
  it("keeps every hash through unrelated edits, and changes only the edited task's", () => {
    const base = inChild(writeWorkflow(BASE));
    const neighbours = inChild(writeWorkflow(NEIGHBOURS));
    const edited = inChild(writeWorkflow(EDITED));
    const names = ["wf.add", "wf.mul", "wf.greet", "one.run", "two.run"];
    assert.deepEqual(Object.keys(base).sort(), [...names].sort());
    // The compiled text does differ (esbuild's renaming): the old hash would have changed.
    assert.notEqual(base["wf.add"]!.compiled, neighbours["wf.add"]!.compiled);
    for (const name of names) {
      assert.equal(neighbours[name]!.hash, base[name]!.hash, `${name} after unrelated edits`);
    }
    assert.notEqual(edited["wf.greet"]!.hash, base["wf.greet"]!.hash);
    for (const name of names.filter((n) => n !== "wf.greet")) {
      assert.equal(edited[name]!.hash, base[name]!.hash, `${name} after editing greet`);
    }
  });

  it("hashes the TypeScript source, types kept, comments and formatting dropped", () => {
    const facts = inChild(writeWorkflow(NEIGHBOURS));
    assert.equal(
      facts["wf.add"]!.source,
      "function add ( a : number , b : number ) { return a + b ; }",
    );
    // Each task is found by its call's position, even when two functions share a name.
    assert.match(facts["one.run"]!.source, /x \+ 1/);
    assert.match(facts["two.run"]!.source, /x \+ 2/);
  });

  it("changes with a type annotation", () => {
    const base = inChild(writeWorkflow(BASE));
    const retyped = inChild(writeWorkflow(BASE.replace("add(a: number", "add(a: bigint")));
    assert.notEqual(retyped["wf.add"]!.hash, base["wf.add"]!.hash);
  });

  it("is the same in this thread, a worker thread, a child process and a copied file", async () => {
    const file = writeWorkflow(BASE);
    await import(pathToFileURL(file).href);
    const here: Facts = {};
    for (const t of allTasks()) {
      if (t.modulePath === file) {
        here[t.fullname] = { hash: t.hash, source: t.source, compiled: t.func.toString() };
      }
    }
    const worker = await inWorker(file);
    const child = inChild(file);
    // What a remote `oneshot` sees: the code unpacked at another absolute path.
    const copy = inChild(writeWorkflow(BASE));
    assert.equal(Object.keys(here).length, 5);
    for (const [name, facts] of Object.entries(here)) {
      assert.equal(worker[name]?.hash, facts.hash, `${name} in a worker thread`);
      assert.equal(child[name]?.hash, facts.hash, `${name} in a child process`);
      assert.equal(copy[name]?.hash, facts.hash, `${name} in a copy`);
    }
    assert.match(worker["two.run"]!.source, /x \+ 2/);
  });
});

describe("normalized source", () => {
  const sourceOf = (code: string) => analyzeSource("w.ts", `task(${code});`).functions[0]!.source;

  it("ignores formatting choices that do not change the code", () => {
    const a = sourceOf(`(x) => { const o = { "a": 0xff, b: 'q', }; return [o, x,]; }`);
    const b = sourceOf(`x => {\n  const o = { a: 255, b: "q" }\n  return [o, x]\n}`);
    assert.equal(a, b);
    assert.equal(a, `( x ) => { const o = { a : 255 , b : "q" } ; return [ o , x ] ; }`);
  });

  it("keeps what changes the code: statement breaks, other values, types", () => {
    assert.notEqual(sourceOf(`() => { a; (b) }`), sourceOf(`() => { a(b) }`));
    assert.notEqual(sourceOf(`(x: number) => x`), sourceOf(`(x: string) => x`));
    assert.notEqual(sourceOf(`() => "a b"`), sourceOf(`() => "a  b"`));
  });
});

describe("task hash: options and fallbacks", () => {
  it("does not depend on the order of hashIncludes", () => {
    const hashes = [
      [1, "x", { k: 2 }],
      [{ k: 2 }, "x", 1],
      [1, "y", { k: 2 }],
    ].map(
      (includes) =>
        task(
          { name: "included", namespace: "hashtest", hashIncludes: includes },
          function included(a: number) {
            return a;
          },
        ).hash,
    );
    assert.equal(hashes[0], hashes[1]);
    assert.notEqual(hashes[0], hashes[2]);
  });

  it("normalizes the run-time text of a task defined by eval", () => {
    const define = (code: string) =>
      // eslint-disable-next-line no-eval
      (0, eval)(`(task) => task({ namespace: "hashtest" }, ${code})`)(task) as {
        hash: string;
        source: string;
      };
    const a = define("function evaled(a) { return a + 1 }");
    const b = define("function evaled( a ) {\n  // a comment\n  return a + 1;\n}");
    assert.equal(a.source, "function evaled ( a ) { return a + 1 ; }");
    assert.equal(a.hash, b.hash);
    // Another body is another task (under one name it would be refused as a duplicate).
    assert.throws(() => define("function evaled(a) { return a + 2 }"), /two different tasks/);
  });
});
