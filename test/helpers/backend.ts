/**
 * Helpers for the backend tests: projects whose `redun.ini` points at SQLite or at a
 * database on the test PostgreSQL server, and direct SQL on either.
 */
import fs from "node:fs";
import { after, before } from "node:test";
import path from "node:path";
import Database from "better-sqlite3";
import { REPO, makeProject, redun, writeFile, type CommandResult } from "./cli.ts";
import { startPostgres, type Postgres } from "./postgres.ts";

/** The fixture workflow of the backend tests. */
export const FLOW = path.join(REPO, "test", "fixtures", "workflows", "backend-flow.ts");

/** A database a test project uses. */
export type DbTarget =
  | { dialect: "sqlite"; file: string; uri: string }
  | { dialect: "postgresql"; pg: Postgres; name: string; uri: string };

/** A project with a `.redun/redun.ini` and the database it records into. */
export interface Project {
  dir: string;
  db: DbTarget;
  /** Environment for `redun` in this project (database credentials, $RUNS_FILE). */
  env: Record<string, string>;
  /** Runs `redun ARGS` in the project. */
  redun(args: string[], env?: Record<string, string>): CommandResult;
  /** Runs SQL on the project's database. */
  query<T = Record<string, any>>(sql: string, params?: unknown[]): Promise<T[]>;
}

const SCHEDULER = `
[scheduler]
job_status_interval = 0
# A killed scheduler's calls are taken over after 2 s, not 20 (tests kill schedulers).
call_lease = 2

[executors.default]
type = local
mode = thread
max_workers = 4
`;

/**
 * A project on SQLite (`pg` omitted) or on a new database of the PostgreSQL server.
 * `backend` adds lines to the `[backend]` section.
 */
export async function makeBackendProject(
  pg: Postgres | undefined,
  backend = "",
  options: {
    files?: Record<string, string>;
    /** Written to redun.ini; "default" writes nothing (default: true for PostgreSQL). */
    automigrate?: boolean | "default";
  } = {},
): Promise<Project> {
  const files = options.files ?? {};
  const automigrate = options.automigrate ?? (pg ? true : "default");
  const migrateLine = automigrate === "default" ? "" : `\nautomigrate = ${automigrate}`;
  let db: DbTarget;
  let dbLines: string;
  let env: Record<string, string> = {};
  const dir = makeProject(files);
  if (pg) {
    const created = await pg.createDatabase();
    db = { dialect: "postgresql", pg, ...created };
    dbLines = `db_uri = ${created.uri}${migrateLine}`;
    env = { ...pg.env };
  } else {
    const file = path.join(dir, ".redun", "redun.db");
    db = { dialect: "sqlite", file, uri: `sqlite:///${file}` };
    dbLines = `db_uri = sqlite:///redun.db${migrateLine}`;
  }
  const ini = `[backend]\n${dbLines}\n${backend}\n${SCHEDULER}`;
  writeIni(dir, ini);
  env.RUNS_FILE = path.join(dir, "runs.log");
  return {
    dir,
    db,
    env,
    redun: (args, extra = {}) => redun(dir, args, { ...env, ...extra }),
    query: (sql, params = []) => query(db, sql, params),
  };
}

/**
 * Registers a PostgreSQL server for the enclosing `describe` (started before its tests,
 * stopped after them) and returns `project(dialect, backend, options)`, which makes a
 * {@link makeBackendProject} on SQLite or on a new database of that server, deleted at the end.
 */
export function useBackendProjects(): {
  readonly pg: Postgres;
  project(
    dialect: "sqlite" | "postgresql",
    backend?: string,
    options?: Parameters<typeof makeBackendProject>[2],
  ): Promise<Project>;
} {
  let pg: Postgres | undefined;
  const projects: Project[] = [];
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    for (const p of projects) fs.rmSync(p.dir, { recursive: true, force: true });
    await pg?.stop();
  });
  const server = () => {
    if (!pg) throw new Error("the PostgreSQL server is started in before()");
    return pg;
  };
  return {
    get pg() {
      return server();
    },
    async project(dialect, backend = "", options = {}) {
      const p = await makeBackendProject(
        dialect === "postgresql" ? server() : undefined,
        backend,
        options,
      );
      projects.push(p);
      return p;
    },
  };
}

/** Replaces the project's redun.ini. */
export function writeIni(dir: string, ini: string): void {
  writeFile(dir, ".redun/redun.ini", ini);
}

/**
 * Runs SQL on a test database: `?` placeholders for SQLite, `$1` for PostgreSQL (write
 * queries that use neither, or only `$1`-style, which this rewrites for SQLite).
 */
export async function query<T = Record<string, any>>(
  db: DbTarget,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  if (db.dialect === "postgresql") return db.pg.query<T>(sql, params, db.name);
  const sqlite = new Database(db.file, { readonly: true, fileMustExist: true });
  try {
    return sqlite.prepare(sql.replace(/\$\d+/g, "?")).all(...params) as T[];
  } finally {
    sqlite.close();
  }
}

/** Counts of every provenance table (numbers), for comparing databases. */
export async function tableCounts(db: DbTarget): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of [
    "task",
    "value",
    "evaluation",
    "call_node",
    "call_edge",
    "call_subtree_task",
    "argument",
    "argument_result",
    "execution",
    "job",
    "tag",
  ]) {
    const [row] = await query<{ n: number | string }>(db, `SELECT count(*) AS n FROM ${table}`);
    counts[table] = Number(row!.n);
  }
  return counts;
}

/** Names of the tables (or, with `index`, the indexes) in a test database. */
export async function schemaObjects(
  db: DbTarget,
  kind: "table" | "index" = "table",
): Promise<string[]> {
  const sql =
    db.dialect === "sqlite"
      ? `SELECT name FROM sqlite_master WHERE type = '${kind}' AND name NOT LIKE 'sqlite_%'`
      : kind === "table"
        ? "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'"
        : "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public'";
  return (await query<{ name: string }>(db, sql)).map((r) => r.name).sort();
}

/** Parses `redun ... --format json` output. */
export function json<T = any>(result: CommandResult): T {
  if (result.code !== 0) throw new Error(`redun failed (${result.code}):\n${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
