/**
 * The provenance tables, as Kysely sees them. Times are ISO-8601 text (sortable and the
 * same in SQLite and PostgreSQL); booleans are integers 0/1 for the same reason.
 */

export interface RedunVersionTable {
  id: string;
  version: number;
  timestamp: string;
}

export interface TaskTable {
  hash: string;
  name: string;
  namespace: string;
  fullname: string;
  source: string;
}

export interface ValueTable {
  value_hash: string;
  /** The value's type: `number`, `string`, `object`, `redun.File`, … */
  type: string;
  /** How `value` is encoded (`redun-wire+json`), or `ref` when it lives in the value store. */
  format: string;
  value: Buffer;
}

export interface SubvalueTable {
  value_hash: string;
  parent_value_hash: string;
}

export interface FileTable {
  value_hash: string;
  path: string;
}

export interface EvaluationTable {
  eval_hash: string;
  task_hash: string;
  args_hash: string;
  value_hash: string;
}

export interface CallNodeTable {
  call_hash: string;
  task_name: string;
  task_hash: string;
  args_hash: string;
  /** The eval hash that found this call (for the shallow, ultimate-reduction cache). */
  eval_hash: string;
  value_hash: string;
  timestamp: string;
}

export interface CallEdgeTable {
  parent_id: string;
  child_id: string;
  call_order: number;
}

export interface CallSubtreeTaskTable {
  call_hash: string;
  task_hash: string;
}

export interface ArgumentTable {
  arg_hash: string;
  call_hash: string;
  value_hash: string;
  arg_position: number | null;
  arg_key: string | null;
}

export interface ArgumentResultTable {
  arg_hash: string;
  result_call_hash: string;
}

export interface ExecutionTable {
  id: string;
  /** JSON array of the command line (or API description) that started the execution. */
  args: string;
  job_id: string | null;
  updated_time: string;
}

export interface JobTable {
  id: string;
  start_time: string;
  end_time: string | null;
  task_hash: string;
  cached: number;
  call_hash: string | null;
  parent_id: string | null;
  execution_id: string;
  /** PENDING, RUNNING, DONE, CACHED, FAILED, CANCELLED. */
  status: string;
}

/** The kinds of record an id can name (and a tag can be on). */
export type EntityType = "execution" | "job" | "call_node" | "value";

export interface TagTable {
  tag_hash: string;
  entity_type: string;
  entity_id: string;
  key: string;
  value: string;
  timestamp: string;
}

/**
 * A call being run (schema version 3): the scheduler running it holds a lease on its eval
 * hash, renewed while the task runs, so that another scheduler sharing the database waits
 * for its result instead of running it again. Rows leave when the result is recorded; an
 * expired lease (its holder died) may be taken over.
 */
export interface CallClaimTable {
  eval_hash: string;
  /** The execution running the call. */
  holder: string;
  /** When the lease ends unless renewed, in milliseconds since the epoch. */
  expires_at: number;
}

/** The whole database, for Kysely. */
export interface Database {
  redun_version: RedunVersionTable;
  task: TaskTable;
  value: ValueTable;
  subvalue: SubvalueTable;
  file: FileTable;
  evaluation: EvaluationTable;
  call_node: CallNodeTable;
  call_edge: CallEdgeTable;
  call_subtree_task: CallSubtreeTaskTable;
  argument: ArgumentTable;
  argument_result: ArgumentResultTable;
  execution: ExecutionTable;
  job: JobTable;
  tag: TagTable;
  call_claim: CallClaimTable;
}
