/**
 * Running a test on both provenance dialects: a fresh database per test, either a real
 * SQLite file or a new database on one PostgreSQL server shared by the whole test file
 * (started on first use, stopped when the file's tests end), with schedulers opened on it
 * and direct SQL that reads the same on both.
 *
 * @example
 * forEachDialect((dialect) => {
 *   it(`[${dialect}] replays the second run`, () =>
 *     withDialectEnv(dialect, {}, async ({ scheduler, query }) => { ... }));
 * });
 */
import fs from "node:fs";
import path from "node:path";
import { after } from "node:test";
import SQLite from "better-sqlite3";
import pg from "pg";
import { Scheduler, type SchedulerOptions } from "../../src/index.ts";
import { schedulerOptions, tempDir, type EnvOptions } from "./engine.ts";
import { startPostgres, type Postgres } from "./postgres.ts";

/** The dialects every backend-touching test runs on. */
export const DIALECTS = ["sqlite", "postgresql"] as const;
export type DialectName = (typeof DIALECTS)[number];

/** Calls `register(dialect)` once per dialect (to define the same tests for each). */
export function forEachDialect(register: (dialect: DialectName) => void): void {
  for (const dialect of DIALECTS) register(dialect);
}

let server: Promise<Postgres> | undefined;

// One server per test file, stopped after the file's last test (a root-level hook).
after(async () => {
  if (server) await (await server).stop();
});

/** The test file's PostgreSQL server, started on first use. */
export function sharedPostgres(): Promise<Postgres> {
  server ??= startPostgres();
  return server;
}

/** A fresh, empty database of one dialect. */
export interface TestDatabase {
  dialect: DialectName;
  /** The database URI (no credentials). */
  uri: string;
  /** For `new Scheduler({ backendOptions })` or `Backend.open`: migrates on first use. */
  backendOptions: NonNullable<SchedulerOptions["backendOptions"]>;
  /** What fixtures/scripts/run-workflow.ts takes as `db`: the SQLite file, or the URI. */
  target: string;
  /** Environment a child process needs to log in (empty for SQLite). */
  env: Record<string, string>;
  /**
   * Rows of a SQL query on a connection of its own. Write `?` placeholders (rewritten to
   * `$1`, `$2`, … for PostgreSQL); BIGINT results (`count(*)`) are numbers on both.
   */
  query<T = Record<string, any>>(sql: string, ...params: unknown[]): Promise<T[]>;
  /** Closes the connection `query` opened, if any. */
  close(): Promise<void>;
}

/** `?` placeholders as `$1`, `$2`, … (the test SQL has no `?` inside string literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** BIGINT as numbers, like the backend's own PostgreSQL connections. */
const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === pg.types.builtins.INT8) return (value: string) => Number(value);
    return (pg.types.getTypeParser as (oid: number, format?: any) => any)(oid, format);
  },
};

/**
 * A new database: `dialect` "sqlite" is `DIR/redun.db` (created by the first scheduler);
 * "postgresql" is a new database on the file's shared server.
 */
export async function createTestDatabase(dialect: DialectName, dir: string): Promise<TestDatabase> {
  if (dialect === "sqlite") {
    const file = path.join(dir, "redun.db");
    return {
      dialect,
      uri: "sqlite:///" + file,
      backendOptions: { dbUri: "sqlite:///" + file, sqlitePath: file },
      target: file,
      env: {},
      async query<T>(sql: string, ...params: unknown[]) {
        const db = new SQLite(file);
        try {
          const statement = db.prepare(sql);
          if (!statement.reader) {
            statement.run(...params);
            return [] as T[];
          }
          return statement.all(...params) as T[];
        } finally {
          db.close();
        }
      },
      close: async () => {},
    };
  }
  const server = await sharedPostgres();
  const { name, uri } = await server.createDatabase();
  let client: pg.Client | undefined;
  return {
    dialect,
    uri,
    backendOptions: { dbUri: uri, automigrate: true, connection: { env: server.env } },
    target: uri,
    env: server.env,
    async query<T>(sql: string, ...params: unknown[]) {
      if (!client) {
        client = new pg.Client({ ...server, database: name, types });
        await client.connect();
      }
      return (await client.query(numbered(sql), params as any[])).rows as T[];
    },
    async close() {
      await client?.end();
      client = undefined;
    },
  };
}

/** What a {@link withDialectEnv} test gets: a temp directory, a database and schedulers. */
export interface DialectEnv {
  dialect: DialectName;
  dir: string;
  db: TestDatabase;
  logs: string[];
  /** The first scheduler. */
  scheduler: Scheduler;
  /** A path inside the temp directory. */
  file(name: string): string;
  /** Another scheduler on the same database (closed at the end). */
  newScheduler(options?: EnvOptions): Scheduler;
  /** {@link TestDatabase.query}. */
  query<T = Record<string, any>>(sql: string, ...params: unknown[]): Promise<T[]>;
}

/**
 * Runs `fn` with a fresh database of `dialect` and a scheduler on it (the dialect-aware
 * `withEnv` of ./engine.ts); closes the schedulers and connection, removes the directory.
 */
export async function withDialectEnv(
  dialect: DialectName,
  options: EnvOptions,
  fn: (env: DialectEnv) => Promise<void>,
): Promise<void> {
  const dir = tempDir();
  const db = await createTestDatabase(dialect, dir);
  const logs: string[] = [];
  const schedulers: Scheduler[] = [];
  const newScheduler = (o: EnvOptions = options) => {
    const s = new Scheduler({
      ...schedulerOptions(path.join(dir, "redun.db"), logs, o),
      backendOptions: db.backendOptions,
    });
    schedulers.push(s);
    return s;
  };
  try {
    await fn({
      dialect,
      dir,
      db,
      logs,
      scheduler: newScheduler(),
      file: (name) => path.join(dir, name),
      newScheduler,
      query: (sql, ...params) => db.query(sql, ...params),
    });
  } finally {
    for (const s of schedulers) await s.close();
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The `[backend]` lines of a redun.ini for `db` (PostgreSQL also needs `db.env` in the
 * environment of `redun`).
 */
export function backendIni(db: TestDatabase): string {
  return db.dialect === "sqlite"
    ? `[backend]\ndb_uri = ${db.uri}\n`
    : `[backend]\ndb_uri = ${db.uri}\nautomigrate = true\n`;
}
