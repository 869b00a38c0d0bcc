/**
 * `redun log` and `redun tag` on a real project: the list of executions, an execution's
 * job tree, a job's call with arguments and result or error, a value's provenance, JSON
 * output, tags, and clear errors for ids that name nothing. Every suite runs on SQLite and
 * on PostgreSQL (one server for the file, a new database per suite).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, test } from "node:test";
import { FLOW, json, makeBackendProject, type Project } from "./helpers/backend.ts";
import { forEachDialect, sharedPostgres, type DialectName } from "./helpers/dialects.ts";

/** A project recording into a new database of `dialect`. */
async function project(dialect: DialectName, files?: Record<string, string>): Promise<Project> {
  const pg = dialect === "postgresql" ? await sharedPostgres() : undefined;
  return makeBackendProject(pg, "", files ? { files } : {});
}

function oneErrorLine(result: { code: number; stderr: string }): string {
  assert.equal(result.code, 1, result.stderr);
  const lines = result.stderr.split("\n").filter((l) => l && !l.startsWith("[redun]"));
  assert.equal(lines.length, 1, result.stderr);
  return lines[0]!;
}

forEachDialect((dialect) =>
  describe(`[${dialect}] redun log and redun tag`, () => {
    let p: Project;
    let executions: any[];
    before(async () => {
      p = await project(dialect);
      assert.equal(p.redun(["log"]).stdout, "No executions recorded.\n");
      for (const args of [
        ["main", "--x", "3", "--y", "4"],
        ["main", "--x", "3", "--y", "4"],
        ["partly", "--message", "oops"],
      ]) {
        p.redun(["run", FLOW, ...args]);
      }
      executions = json(p.redun(["log", "--format", "json"])).executions;
    });
    after(() => fs.rmSync(p.dir, { recursive: true, force: true }));

    test("lists executions, newest first", () => {
      const lines = p.redun(["log"]).stdout.trimEnd().split("\n");
      assert.equal(lines.length, 3);
      const time = "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d";
      assert.match(
        lines[0]!,
        new RegExp(
          `^Exec [0-9a-f]{8} \\[ FAILED\\] ${time} +\\d+\\.\\d\\ds  run \\S+backend-flow\\.ts partly --message oops` +
            `  \\(project=backend_flow, redun\\.version=[0-9.]+, user=[^,)]+\\)$`,
        ),
      );
      assert.match(
        lines[1]!,
        new RegExp(`^Exec [0-9a-f]{8} \\[  DONE \\] ${time} .* main --x 3 --y 4  \\(project=`),
      );
      assert.match(lines[2]!, /main --x 3 --y 4 {2}\(project=/);
      assert.deepEqual(
        executions.map((e) => [e.status, e.taskName, e.jobCounts]),
        [
          ["FAILED", "backend_flow.partly", { DONE: 1, FAILED: 2 }],
          ["DONE", "backend_flow.main", { CACHED: 4 }],
          ["DONE", "backend_flow.main", { DONE: 4 }],
        ],
      );
      assert.ok(executions[0].startTime >= executions[1].startTime);
    });

    test("an execution shows its job tree, by id or by prefix", () => {
      const first = executions[2];
      const text = p.redun(["log", first.id.slice(0, 8)]);
      assert.equal(text.code, 0, text.stderr);
      assert.match(
        text.stdout,
        new RegExp(
          `^Exec ${first.id}\n  Args:     run \\S+ main --x 3 --y 4\n  Status:   DONE\n  Task:     backend_flow\\.main\n`,
        ),
      );
      assert.match(text.stdout, /  Jobs:     4 \(DONE 4\)\n/);
      const jobs = text.stdout.split("\nJobs:\n")[1]!.trimEnd().split("\n");
      assert.equal(jobs.length, 4);
      assert.match(
        jobs[0]!,
        /^  Job [0-9a-f]{8} \[  DONE \] .*  backend_flow\.main\(x=3, y=4, label='run'\)  \d+\.\d\ds$/,
      );
      assert.deepEqual(
        jobs
          .slice(1)
          .map((l) => l.match(/^    Job [0-9a-f]{8} \[  DONE \] \S+ \S+  (.+?)  \d+\.\d\ds$/)?.[1])
          .sort(),
        ["backend_flow.add(a=9, b=16)", "backend_flow.square(x=3)", "backend_flow.square(x=4)"],
      );

      const cached = json(p.redun(["log", executions[1].id, "--format", "json"]));
      const root = cached.jobs[0];
      assert.equal(cached.jobs.length, 1);
      assert.deepEqual(
        [root.status, root.cached, root.call],
        ["CACHED", true, "backend_flow.main(x=3, y=4, label='run')"],
      );
      assert.deepEqual(root.children.map((j: any) => [j.taskName, j.status]).sort(), [
        ["backend_flow.add", "CACHED"],
        ["backend_flow.square", "CACHED"],
        ["backend_flow.square", "CACHED"],
      ]);
      assert.ok(typeof root.durationMs === "number" && root.durationMs >= 0);
    });

    test("a job shows its call, arguments and result; a value shows where it came from", () => {
      const detail = json(p.redun(["log", executions[2].id, "--format", "json"]));
      const root = detail.jobs[0];
      const text = p.redun(["log", root.id]).stdout;
      assert.match(
        text,
        new RegExp(
          `^Job ${root.id}\n  Task:      backend_flow\\.main \\([0-9a-f]{8}\\)\n  Call:      backend_flow\\.main\\(x=3, y=4, label='run'\\)\n  Status:    DONE\n`,
        ),
      );
      assert.match(
        text,
        /\nArguments:\n  x = 3\n  y = 4\n  label = 'run'\nResult \(object, \d+ bytes\):\n  \{ sum: 25, label: 'run' \}\nChild calls:\n/,
      );

      const add = root.children.find((j: any) => j.taskName === "backend_flow.add");
      const job = json(p.redun(["log", add.id, "--format", "json"]));
      assert.equal(job.failed, false);
      assert.deepEqual(
        job.call.arguments.map((a: any) => [a.key, a.value.value, a.upstream.length]),
        [
          ["a", 9, 1],
          ["b", 16, 1],
        ],
      );
      assert.equal(job.call.result.value, 25);
      const squareOf3 = root.children.find((j: any) => j.call === "backend_flow.square(x=3)");
      assert.deepEqual(
        job.call.arguments[0].upstream,
        [squareOf3.callHash],
        "argument a came from square(3)",
      );

      const nine = job.call.arguments[0].value.valueHash;
      const value = json(p.redun(["log", nine, "--format", "json"]));
      assert.equal(value.value.value, 9);
      assert.deepEqual(
        value.provenance.producedBy.map((c: any) => [c.callHash, c.taskName]),
        [[squareOf3.callHash, "backend_flow.square"]],
      );
      assert.deepEqual(
        value.provenance.usedBy.map((c: any) => [c.taskName, c.key]),
        [["backend_flow.add", "a"]],
      );
      const valueText = p.redun(["log", nine.slice(0, 10)]).stdout;
      assert.match(
        valueText,
        /^Value [0-9a-f]{40}\n  Type:   number\n  Size:   1 bytes\n  Value:  9\nProduced by:\n  call [0-9a-f]{8}  backend_flow\.square\nUsed by:\n  call [0-9a-f]{8}  backend_flow\.add \(argument a\)\n$/,
      );

      const call = json(p.redun(["log", squareOf3.callHash, "--format", "json"]));
      assert.equal(call.call.taskName, "backend_flow.square");
      assert.equal(call.call.result.value, 9);
    });

    test("a failed job shows its error", () => {
      const detail = json(p.redun(["log", executions[0].id, "--format", "json"]));
      const failed = detail.jobs[0].children.find((j: any) => j.taskName === "backend_flow.fail");
      assert.equal(failed.status, "FAILED");
      // A failed call records its arguments too.
      assert.equal(failed.call, "backend_flow.fail(message='oops')");
      const text = p.redun(["log", failed.id]).stdout;
      assert.match(text, /  Status:    FAILED\n/);
      assert.match(text, /\nError:\n  Error: boom: oops\n$/);
      const job = json(p.redun(["log", failed.id, "--format", "json"]));
      assert.equal(job.failed, true);
      assert.equal(job.call.result.preview, "Error: boom: oops");
    });

    test("tags: add, list, show, remove", () => {
      const id = executions[2].id;
      assert.equal(
        p.redun(["tag", "add", id.slice(0, 6), "env=prod", "n=3"]).stdout,
        `2 tag(s) added to execution ${id}\n`,
      );
      assert.equal(
        p.redun(["tag", "add", id, "env=prod"]).stdout,
        `0 tag(s) added to execution ${id}\n`,
      );
      // Beside redun's own tags (project, redun.version, user).
      assert.deepEqual(
        p
          .redun(["tag", "list", id])
          .stdout.split("\n")
          .filter((line) => / (env|n)=/.test(line)),
        [`execution ${id.slice(0, 8)}  env=prod`, `execution ${id.slice(0, 8)}  n=3`],
      );
      assert.match(p.redun(["log", id]).stdout, /\n  Tags:     env=prod, n=3, project=/);
      const listed = json(p.redun(["tag", "list", "--format", "json"])).filter((t: any) =>
        ["env", "n"].includes(t.key),
      );
      assert.deepEqual(
        listed.map((t: any) => [t.entityType, t.entityId, t.key, t.value]),
        [
          ["execution", id, "env", "prod"],
          ["execution", id, "n", 3],
        ],
      );
      assert.equal(
        p.redun(["tag", "rm", id, "n"]).stdout,
        `1 tag(s) removed from execution ${id}\n`,
      );
      assert.deepEqual(
        json(p.redun(["log", id, "--format", "json"])).tags.map((t: any) => t.key),
        ["env", "project", "redun.version", "user"],
      );
      assert.match(
        oneErrorLine(p.redun(["tag", "add", id, "novalue"])),
        /^redun: error: expected key=value, got "novalue"$/,
      );
    });

    test("ids that name nothing, or too little, are one clear line", () => {
      assert.equal(
        oneErrorLine(p.redun(["log", "ffffffff"])),
        'redun: error: no execution, job, call or value has the id "ffffffff"',
      );
      assert.equal(
        oneErrorLine(p.redun(["log", "ab"])),
        'redun: error: "ab" is too short: give at least 4 characters of an id',
      );
      assert.equal(
        oneErrorLine(p.redun(["log", "--format", "xml"])),
        'redun: error: --format expects text or json, got "xml"',
      );
    });
  }),
);

forEachDialect((dialect) =>
  describe(`[${dialect}] redun log lists executions with their command lines and tags, filtered`, () => {
    let p: Project;
    let main: any;
    let partly: any;
    before(async () => {
      p = await project(dialect);
      p.redun(["run", "--no-cache", FLOW, "main", "--x", "1", "--y", "2"]);
      p.redun(["run", FLOW, "partly", "--message", "m"]);
      [partly, main] = json(p.redun(["log", "--format", "json"])).executions;
      p.redun(["tag", "add", main.id, "env=prod", "n=3"]);
      p.redun(["tag", "add", partly.id, "env=dev"]);
    });
    after(() => fs.rmSync(p.dir, { recursive: true, force: true }));

    const listed = (...args: string[]) =>
      json(p.redun(["log", "--format", "json", ...args])).executions.map((e: any) => e.id);

    test("each execution shows the full command line it ran with, and its tags", () => {
      const [first, second] = json(p.redun(["log", "--format", "json"])).executions;
      assert.deepEqual(second.args, ["run", "--no-cache", FLOW, "main", "--x", "1", "--y", "2"]);
      // The tags added here, beside redun's own (project, redun.version, user).
      const own = (tags: { key: string }[]) => tags.filter((t) => ["env", "n"].includes(t.key));
      assert.deepEqual(own(second.tags), [
        { key: "env", value: "prod" },
        { key: "n", value: 3 },
      ]);
      assert.deepEqual(own(first.tags), [{ key: "env", value: "dev" }]);
      assert.deepEqual(
        first.tags.map((t: { key: string }) => t.key),
        ["env", "project", "redun.version", "user"],
      );
      const lines = p.redun(["log"]).stdout.trimEnd().split("\n");
      assert.match(
        lines[0]!,
        / {2}run \S+backend-flow\.ts partly --message m {2}\(env=dev, project=/,
      );
      assert.match(
        lines[1]!,
        / {2}run --no-cache \S+backend-flow\.ts main --x 1 --y 2 {2}\(env=prod, n=3, project=/,
      );
    });

    test("--tag (repeatable), --status and --task filter the list", () => {
      assert.deepEqual(listed("--tag", "env=prod"), [main.id]);
      assert.deepEqual(listed("--tag", "env"), [partly.id, main.id]);
      assert.deepEqual(listed("--tag", "env=prod", "--tag", "n=3"), [main.id]);
      assert.deepEqual(listed("--tag", "env=dev", "--tag", "n=3"), []);
      assert.deepEqual(listed("--status", "failed"), [partly.id]);
      assert.deepEqual(listed("--status", "DONE"), [main.id]);
      assert.deepEqual(listed("--status", "running"), []);
      assert.deepEqual(listed("--task", "partly"), [partly.id]);
      assert.deepEqual(listed("--task", "backend_flow.main", "--tag", "env"), [main.id]);
      assert.equal(p.redun(["log", "--task", "nothing"]).stdout, "No executions match.\n");
    });

    // Argument parsing only: once is enough.
    if (dialect === "sqlite") {
      test("bad filters are one clear line", () => {
        assert.equal(
          oneErrorLine(p.redun(["log", "--status", "done-ish"])),
          'redun: error: --status expects one of DONE, FAILED, RUNNING, INTERRUPTED (any case), got "done-ish"',
        );
        assert.equal(
          oneErrorLine(p.redun(["log", "--tag", "=x"])),
          'redun: error: --tag expects key=value or key, got "=x"',
        );
        assert.equal(
          oneErrorLine(p.redun(["log", main.id, "--status", "done"])),
          "redun: error: --tag, --status, --exec-status, --job-status, --task and --since filter " +
            "lists: give no id",
        );
      });
    }
  }),
);

/** A workflow with a script task and a value of a user type (registered by the workflow). */
const TYPED_FLOW = `
import { File, registerType, script, task } from "redun";

export class Thing {
  constructor(readonly n: number) {}
}
registerType(Thing, {
  name: "acme.Thing",
  serialize: (t) => ({ n: t.n }),
  deserialize: (d: { n: number }) => new Thing(d.n),
});

export const make = task(function make(n: number) {
  return new Thing(n);
});
export const twice = task(function twice(t: Thing) {
  return t.n * 2;
});
export const write = task(function write(out: string) {
  return script(\`echo hello > \${out}\`, { outputs: new File(out) });
});
export const main = task(function main(n: number) {
  return { twice: twice(make(n)), thing: make(n), file: write("out.txt") };
});
`;

forEachDialect((dialect) =>
  describe(`[${dialect}] redun log reads every record, whatever types its values hold`, () => {
    let p: Project;
    let jobs: any[];
    const wire = { $t: "custom", type: "acme.Thing", v: { n: 21 } };
    const opaque = `<acme.Thing: ${Buffer.byteLength(JSON.stringify(wire))} bytes>`;
    before(async () => {
      p = await project(dialect, { "wf.ts": TYPED_FLOW });
      const run = p.redun(["run", "wf.ts", "main", "--n", "21"]);
      assert.equal(run.code, 0, run.stderr);
      const [execution] = json(p.redun(["log", "--format", "json"])).executions;
      const tree = json(p.redun(["log", execution.id, "--format", "json"])).jobs;
      const flat = (nodes: any[]): any[] => nodes.flatMap((n) => [n, ...flat(n.children)]);
      jobs = flat(tree);
    });
    after(() => fs.rmSync(p.dir, { recursive: true, force: true }));

    test("every job of an execution with a script task and a user type can be shown", () => {
      assert.deepEqual([...new Set(jobs.map((j) => j.taskName))].sort(), [
        "main",
        "make",
        "redun.script",
        "twice",
        "write",
      ]);
      for (const job of jobs) {
        for (const format of ["text", "json"]) {
          const shown = p.redun(["log", job.id, "--format", format]);
          assert.equal(shown.code, 0, `${job.taskName} (${format}): ${shown.stderr}`);
        }
      }
      const script = p.redun(["log", jobs.find((j) => j.taskName === "redun.script").id]);
      assert.match(script.stdout, /ScriptOutput \{ kind: 'file', local: 'out\.txt'/);
    });

    test("a value of a type whose module is not loaded shows as an opaque preview", () => {
      const twice = jobs.find((j) => j.taskName === "twice");
      assert.equal(twice.call, `twice(t=${opaque})`);
      const text = p.redun(["log", twice.id]).stdout;
      assert.match(
        text,
        new RegExp(
          `\nArguments:\n  t = ${opaque}  \\(from call [0-9a-f]{8}\\)\nResult \\(number, 2 bytes\\):\n  42\n`,
        ),
      );

      const make = json(
        p.redun(["log", jobs.find((j) => j.taskName === "make").id, "--format", "json"]),
      );
      assert.equal(make.call.result.type, "acme.Thing");
      assert.equal(make.call.result.preview, opaque);
      assert.deepEqual(make.call.result.value, wire, "the JSON keeps the value as stored");

      const value = p.redun(["log", make.call.result.valueHash]);
      assert.equal(value.code, 0, value.stderr);
      assert.match(value.stdout, new RegExp(`\n  Type:   acme\\.Thing\n.*\n  Value:  ${opaque}\n`));

      const root = json(
        p.redun(["log", jobs.find((j) => j.taskName === "main").id, "--format", "json"]),
      );
      assert.match(root.call.result.preview, new RegExp(`thing: ${opaque}`));
      assert.deepEqual(root.call.result.value.thing, wire);
    });
  }),
);
