/**
 * Provenance queries on SQLite and a real PostgreSQL server: the executions list with its
 * command lines and tags, filtered by tag, status and root task; and why a call misses the
 * cache (`missReason`), on rows recorded by real `redun run`s.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Backend } from "../src/backend/backend.ts";
import { listExecutions, missReason, type ExecutionInfo } from "../src/backend/queries.ts";
import { FLOW, useBackendProjects, type Project } from "./helpers/backend.ts";

const DIALECTS = ["sqlite", "postgresql"] as const;

async function openBackend(p: Project): Promise<Backend> {
  return Backend.open({
    dbUri: p.db.uri,
    sqlitePath: p.db.dialect === "sqlite" ? p.db.file : undefined,
    connection: { env: p.env },
  });
}

function run(p: Project, args: string[], code = 0): void {
  const result = p.redun(args);
  assert.equal(result.code, code, result.stderr);
}

describe("provenance queries", () => {
  const backends = useBackendProjects();

  for (const dialect of DIALECTS) {
    test(`${dialect}: executions with command lines and tags, filtered`, async () => {
      const p = await backends.project(dialect);
      run(p, ["run", FLOW, "main", "--x", "3", "--y", "4"]);
      run(p, ["run", "--no-cache", FLOW, "main", "--x", "3", "--y", "4"]);
      run(p, ["run", FLOW, "partly", "--message", "no"], 1);
      const backend = await openBackend(p);
      try {
        const db = backend.db;
        const [partly, noCache, first] = await listExecutions(db);
        assert.deepEqual(noCache!.args, [
          "run",
          "--no-cache",
          FLOW,
          "main",
          "--x",
          "3",
          "--y",
          "4",
        ]);
        assert.deepEqual(partly!.args, ["run", FLOW, "partly", "--message", "no"]);
        run(p, ["tag", "add", first!.id, "env=prod", "n=3"]);
        run(p, ["tag", "add", noCache!.id, "env=dev"]);
        run(p, ["tag", "add", partly!.id, "env=prod"]);

        // A scheduler that is still running: its root job has not finished.
        await db
          .insertInto("job")
          .values({
            id: "running-job",
            start_time: "2999-01-01T00:00:00.000Z",
            end_time: null,
            task_hash: (await rootTask(backend, first!.jobId!))!,
            cached: 0,
            call_hash: null,
            parent_id: null,
            execution_id: "running-exec",
            status: "RUNNING",
          })
          .execute();
        await db
          .insertInto("execution")
          .values({
            id: "running-exec",
            args: JSON.stringify(["run", "wf.ts", "main"]),
            job_id: "running-job",
            updated_time: "2999-01-01T00:00:00.000Z",
          })
          .execute();

        const ids = (list: ExecutionInfo[]) => list.map((e) => e.id);
        const all = await listExecutions(db);
        assert.deepEqual(ids(all), ["running-exec", partly!.id, noCache!.id, first!.id]);
        assert.deepEqual(
          // The tags added here (every execution also has redun's own: redun.version, user…).
          all.map((e) => [
            e.status,
            e.taskName,
            e.tags.filter((t) => ["env", "n"].includes(t.key)),
          ]),
          [
            ["RUNNING", "backend_flow.main", []],
            ["FAILED", "backend_flow.partly", [{ key: "env", value: "prod" }]],
            ["DONE", "backend_flow.main", [{ key: "env", value: "dev" }]],
            [
              "DONE",
              "backend_flow.main",
              [
                { key: "env", value: "prod" },
                { key: "n", value: 3 },
              ],
            ],
          ],
        );

        assert.deepEqual(ids(await listExecutions(db, { tags: [{ key: "env", value: "prod" }] })), [
          partly!.id,
          first!.id,
        ]);
        assert.deepEqual(
          ids(
            await listExecutions(db, {
              tags: [
                { key: "env", value: "prod" },
                { key: "n", value: 3 },
              ],
            }),
          ),
          [first!.id],
        );
        assert.deepEqual(ids(await listExecutions(db, { tags: [{ key: "n", value: "3" }] })), []);
        assert.deepEqual(ids(await listExecutions(db, { tags: [{ key: "env" }] })), [
          partly!.id,
          noCache!.id,
          first!.id,
        ]);

        assert.deepEqual(ids(await listExecutions(db, { status: "DONE" })), [
          noCache!.id,
          first!.id,
        ]);
        assert.deepEqual(ids(await listExecutions(db, { status: "FAILED" })), [partly!.id]);
        assert.deepEqual(ids(await listExecutions(db, { status: "RUNNING" })), ["running-exec"]);

        assert.deepEqual(ids(await listExecutions(db, { task: "partly" })), [partly!.id]);
        assert.deepEqual(ids(await listExecutions(db, { task: "backend_flow.main" })), [
          "running-exec",
          noCache!.id,
          first!.id,
        ]);
        assert.deepEqual(ids(await listExecutions(db, { task: "flow.main" })), []);
        assert.deepEqual(
          ids(
            await listExecutions(db, {
              task: "main",
              status: "DONE",
              tags: [{ key: "env" }],
              limit: 1,
            }),
          ),
          [noCache!.id],
        );
      } finally {
        await backend.close();
      }
    });

    test(`${dialect}: missReason tells new code from new arguments from a new call`, async () => {
      const p = await backends.project(dialect);
      run(p, ["run", FLOW, "main", "--x", "3", "--y", "4"]);
      const backend = await openBackend(p);
      try {
        const db = backend.db;
        const square = await db
          .selectFrom("call_node")
          .select(["task_hash", "args_hash"])
          .where("task_name", "=", "backend_flow.square")
          .orderBy("call_hash")
          .executeTakeFirstOrThrow();
        const otherHash = "f".repeat(40);
        const otherArgs = "0".repeat(40);
        const reason = (taskName: string, taskHash: string, argsHash: string) =>
          missReason(db, { taskName, taskHash, argsHash });

        // square's code changed: same arguments were seen under another hash.
        assert.equal(await reason("backend_flow.square", otherHash, square.args_hash), "new task");
        // Same code, arguments never seen.
        assert.equal(await reason("backend_flow.square", square.task_hash, otherArgs), "new args");
        // Neither: a new task with new arguments, or the same arguments for another task.
        assert.equal(await reason("backend_flow.square", otherHash, otherArgs), "new call");
        assert.equal(await reason("backend_flow.cube", otherHash, square.args_hash), "new call");
      } finally {
        await backend.close();
      }
    });
  }
});

async function rootTask(backend: Backend, jobId: string): Promise<string | undefined> {
  const row = await backend.db
    .selectFrom("job")
    .select("task_hash")
    .where("id", "=", jobId)
    .executeTakeFirst();
  return row?.task_hash;
}
