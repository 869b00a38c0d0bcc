/** Schema version 1: the provenance model. */
import type { Kysely } from "kysely";
import type { Dialect } from "../database.ts";
import { bytesType, type Migration } from "./migration.ts";

const TABLES = [
  "task",
  "value",
  "subvalue",
  "file",
  "evaluation",
  "call_node",
  "call_edge",
  "call_subtree_task",
  "argument",
  "argument_result",
  "execution",
  "job",
  "tag",
];

async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const s = db.schema;
  await s
    .createTable("task")
    .ifNotExists()
    .addColumn("hash", "text", (c) => c.primaryKey())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("namespace", "text", (c) => c.notNull())
    .addColumn("fullname", "text", (c) => c.notNull())
    .addColumn("source", "text", (c) => c.notNull())
    .execute();
  await s.createIndex("ix_task_fullname").ifNotExists().on("task").column("fullname").execute();

  await s
    .createTable("value")
    .ifNotExists()
    .addColumn("value_hash", "text", (c) => c.primaryKey())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("format", "text", (c) => c.notNull())
    .addColumn("value", bytesType(dialect), (c) => c.notNull())
    .execute();

  await s
    .createTable("subvalue")
    .ifNotExists()
    .addColumn("value_hash", "text", (c) => c.notNull())
    .addColumn("parent_value_hash", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("pk_subvalue", ["value_hash", "parent_value_hash"])
    .execute();
  await s
    .createIndex("ix_subvalue_parent")
    .ifNotExists()
    .on("subvalue")
    .column("parent_value_hash")
    .execute();

  await s
    .createTable("file")
    .ifNotExists()
    .addColumn("value_hash", "text", (c) => c.primaryKey())
    .addColumn("path", "text", (c) => c.notNull())
    .execute();
  await s.createIndex("ix_file_path").ifNotExists().on("file").column("path").execute();

  await s
    .createTable("evaluation")
    .ifNotExists()
    .addColumn("eval_hash", "text", (c) => c.primaryKey())
    .addColumn("task_hash", "text", (c) => c.notNull())
    .addColumn("args_hash", "text", (c) => c.notNull())
    .addColumn("value_hash", "text", (c) => c.notNull())
    .execute();
  await s
    .createIndex("ix_evaluation_task_args")
    .ifNotExists()
    .on("evaluation")
    .columns(["task_hash", "args_hash"])
    .execute();

  await s
    .createTable("call_node")
    .ifNotExists()
    .addColumn("call_hash", "text", (c) => c.primaryKey())
    .addColumn("task_name", "text", (c) => c.notNull())
    .addColumn("task_hash", "text", (c) => c.notNull())
    .addColumn("args_hash", "text", (c) => c.notNull())
    .addColumn("eval_hash", "text", (c) => c.notNull())
    .addColumn("value_hash", "text", (c) => c.notNull())
    .addColumn("timestamp", "text", (c) => c.notNull())
    .execute();
  await s
    .createIndex("ix_call_node_eval")
    .ifNotExists()
    .on("call_node")
    .columns(["eval_hash", "timestamp"])
    .execute();
  await s
    .createIndex("ix_call_node_value")
    .ifNotExists()
    .on("call_node")
    .column("value_hash")
    .execute();

  await s
    .createTable("call_edge")
    .ifNotExists()
    .addColumn("parent_id", "text", (c) => c.notNull())
    .addColumn("child_id", "text", (c) => c.notNull())
    .addColumn("call_order", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("pk_call_edge", ["parent_id", "child_id", "call_order"])
    .execute();
  await s
    .createIndex("ix_call_edge_child")
    .ifNotExists()
    .on("call_edge")
    .column("child_id")
    .execute();

  await s
    .createTable("call_subtree_task")
    .ifNotExists()
    .addColumn("call_hash", "text", (c) => c.notNull())
    .addColumn("task_hash", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("pk_call_subtree_task", ["call_hash", "task_hash"])
    .execute();

  await s
    .createTable("argument")
    .ifNotExists()
    .addColumn("arg_hash", "text", (c) => c.primaryKey())
    .addColumn("call_hash", "text", (c) => c.notNull())
    .addColumn("value_hash", "text", (c) => c.notNull())
    .addColumn("arg_position", "integer")
    .addColumn("arg_key", "text")
    .execute();
  await s
    .createIndex("ix_argument_call")
    .ifNotExists()
    .on("argument")
    .column("call_hash")
    .execute();
  await s
    .createIndex("ix_argument_value")
    .ifNotExists()
    .on("argument")
    .column("value_hash")
    .execute();

  await s
    .createTable("argument_result")
    .ifNotExists()
    .addColumn("arg_hash", "text", (c) => c.notNull())
    .addColumn("result_call_hash", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("pk_argument_result", ["arg_hash", "result_call_hash"])
    .execute();
  await s
    .createIndex("ix_argument_result_call")
    .ifNotExists()
    .on("argument_result")
    .column("result_call_hash")
    .execute();

  await s
    .createTable("execution")
    .ifNotExists()
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("args", "text", (c) => c.notNull())
    .addColumn("job_id", "text")
    .addColumn("updated_time", "text", (c) => c.notNull())
    .execute();

  await s
    .createTable("job")
    .ifNotExists()
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("start_time", "text", (c) => c.notNull())
    .addColumn("end_time", "text")
    .addColumn("task_hash", "text", (c) => c.notNull())
    .addColumn("cached", "integer", (c) => c.notNull())
    .addColumn("call_hash", "text")
    .addColumn("parent_id", "text")
    .addColumn("execution_id", "text", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull())
    .execute();
  await s.createIndex("ix_job_execution").ifNotExists().on("job").column("execution_id").execute();
  await s.createIndex("ix_job_parent").ifNotExists().on("job").column("parent_id").execute();
  await s.createIndex("ix_job_call").ifNotExists().on("job").column("call_hash").execute();

  await s
    .createTable("tag")
    .ifNotExists()
    .addColumn("tag_hash", "text", (c) => c.primaryKey())
    .addColumn("entity_type", "text", (c) => c.notNull())
    .addColumn("entity_id", "text", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("value", "text", (c) => c.notNull())
    .addColumn("timestamp", "text", (c) => c.notNull())
    .execute();
  await s
    .createIndex("ix_tag_entity")
    .ifNotExists()
    .on("tag")
    .columns(["entity_type", "entity_id"])
    .execute();
  await s
    .createIndex("ix_tag_key_value")
    .ifNotExists()
    .on("tag")
    .columns(["key", "value"])
    .execute();
}

async function down(db: Kysely<any>): Promise<void> {
  for (const table of [...TABLES].reverse()) await db.schema.dropTable(table).ifExists().execute();
}

export const initialSchema: Migration = {
  version: 1,
  description: "provenance tables: task, value, call graph, arguments, executions, jobs, tags",
  up,
  down,
};
