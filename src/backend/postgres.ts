/**
 * The PostgreSQL dialect: a `pg.Pool` under Kysely's PostgresDialect, with credentials from
 * the environment variables the configuration names or from AWS Secrets Manager, never
 * from the URI. Importing this module registers the `postgresql://` (and `postgres://`)
 * opener; `openDatabase` imports it only when such a database is opened.
 */
import pg from "pg";
import { kysely } from "./kysely-module.ts";
import {
  DatabaseConnectionError,
  registerDatabaseOpener,
  type ConnectionOptions,
  type DatabaseHandle,
} from "./connection.ts";
import { withRetry } from "./retry.ts";
import type { Database } from "./schema.ts";

export { DatabaseConnectionError };

/** Where and as whom to connect. */
export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user?: string;
  password?: string;
  ssl?: boolean;
  /** `postgresql://host:port/database`, for messages. */
  location: string;
  /** Where the credentials came from, for messages. */
  credentials: string;
  /** Where a missing password should have come from, for messages. */
  passwordSource?: string;
}

const DEFAULT_PORT = 5432;

/**
 * Reads host, port and database from a URI and the login from the environment variables
 * named in `options` (default `REDUN_DB_USERNAME` / `REDUN_DB_PASSWORD`).
 * @throws DatabaseConnectionError for a URI with a user name or password in it.
 */
export function targetFromUri(uri: string, options: ConnectionOptions = {}): PostgresTarget {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new DatabaseConnectionError(`"${uri}" is not a valid postgresql:// URI`);
  }
  if (url.username || url.password) {
    throw new DatabaseConnectionError(
      "a username or password is not allowed in db_uri (redun.ini is often in source control); " +
        "set them in the environment variables named by db_username_env and db_password_env " +
        "(default REDUN_DB_USERNAME, REDUN_DB_PASSWORD), or use db_aws_secret_name",
    );
  }
  const env = options.env ?? process.env;
  const usernameEnv = options.usernameEnv ?? "REDUN_DB_USERNAME";
  const passwordEnv = options.passwordEnv ?? "REDUN_DB_PASSWORD";
  const host = decodeURIComponent(url.hostname.replace(/^\[(.*)\]$/, "$1")) || "localhost";
  const port = url.port ? Number(url.port) : DEFAULT_PORT;
  const database = decodeURIComponent(url.pathname.replace(/^\//, "")) || "postgres";
  const sslmode = url.searchParams.get("sslmode");
  return {
    host,
    port,
    database,
    user: env[usernameEnv] || undefined,
    password: env[passwordEnv] ?? undefined,
    ssl: sslmode !== null && sslmode !== "disable" && sslmode !== "allow" && sslmode !== "prefer",
    location: `postgresql://${url.host}/${database}`,
    credentials: `the environment variables ${usernameEnv} and ${passwordEnv}`,
    passwordSource: `the environment variable ${passwordEnv} (named by db_password_env)`,
  };
}

/** Builds the connection target from an AWS RDS-style secret. */
export function targetFromSecret(name: string, secret: Record<string, unknown>): PostgresTarget {
  const engine = String(secret.engine ?? "postgres");
  if (!/^(postgres|postgresql|aurora-postgresql)$/.test(engine)) {
    throw new DatabaseConnectionError(
      `the secret "${name}" is for engine "${engine}"; redun supports postgres (and sqlite files)`,
    );
  }
  for (const field of ["host", "username"]) {
    if (typeof secret[field] !== "string" || !secret[field]) {
      throw new DatabaseConnectionError(`the secret "${name}" has no "${field}" field`);
    }
  }
  const host = secret.host as string;
  const port = secret.port === undefined ? DEFAULT_PORT : Number(secret.port);
  if (!Number.isInteger(port) || port <= 0)
    throw new DatabaseConnectionError(`the secret "${name}" has an invalid port "${secret.port}"`);
  const database = typeof secret.dbname === "string" && secret.dbname ? secret.dbname : "postgres";
  return {
    host,
    port,
    database,
    user: secret.username as string,
    password: typeof secret.password === "string" ? secret.password : undefined,
    location: `postgresql://${host}:${port}/${database}`,
    credentials: `the AWS secret "${name}"`,
  };
}

/** Where to connect: from the AWS secret when one is named, else from the URI. */
export async function resolveTarget(
  uri: string,
  options: ConnectionOptions,
): Promise<PostgresTarget> {
  if (!options.awsSecretName) return targetFromUri(uri, options);
  const { readSecretJson } = await import("./aws-secret.ts");
  return targetFromSecret(options.awsSecretName, await readSecretJson(options.awsSecretName));
}

/** BIGINT (count(*), …) as numbers; everything else as pg parses it (BYTEA is a Buffer). */
const types = {
  getTypeParser(oid: number, format?: string) {
    if (oid === pg.types.builtins.INT8) return (value: string) => Number(value);
    return (pg.types.getTypeParser as (oid: number, format?: any) => any)(oid, format);
  },
};

function connectionMessage(error: unknown, target: PostgresTarget): string {
  const code = (error as { code?: string }).code;
  const message = (error as Error).message ?? String(error);
  if (target.password === undefined && /password must be a string/.test(message)) {
    return (
      `cannot log in to ${target.location}${target.user ? ` as "${target.user}"` : ""}: ` +
      `the server wants a password, and ${target.passwordSource ?? "the secret"} is not set`
    );
  }
  if (code === "28P01" || code === "28000") {
    return (
      `cannot log in to ${target.location}${target.user ? ` as "${target.user}"` : ""}: ${message} ` +
      `(credentials come from ${target.credentials})`
    );
  }
  if (code === "3D000") return `cannot open ${target.location}: ${message}`;
  return `cannot connect to ${target.location}: ${message}`;
}

/** Opens a PostgreSQL database; the first query checks the connection and the login. */
export async function openPostgres(
  uri: string,
  options: ConnectionOptions,
): Promise<DatabaseHandle> {
  const target = await resolveTarget(uri, options);
  const pool = new pg.Pool({
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password: target.password,
    ssl: target.ssl ? { rejectUnauthorized: false } : undefined,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 15_000,
    idleTimeoutMillis: 10_000,
    types,
  });
  // An idle connection that the server drops is removed from the pool; the next query
  // gets a new one. Without a listener, the error would crash the process.
  pool.on("error", () => {});
  // A connection that drops while in use fails its query (which is retried); the error it
  // also emits must not crash the process. The pool discards it when it is released.
  pool.on("connect", (client) => client.on("error", () => {}));
  try {
    await withRetry(
      async () => {
        const client = await pool.connect();
        try {
          await client.query("SELECT 1");
        } finally {
          client.release();
        }
      },
      { attempts: 5 },
    );
  } catch (error) {
    await pool.end().catch(() => {});
    throw new DatabaseConnectionError(connectionMessage(error, target), { cause: error });
  }
  const { Kysely, PostgresDialect } = kysely();
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: "postgresql",
    location: target.location,
    close: () => db.destroy(),
  };
}

registerDatabaseOpener("postgresql", openPostgres);
registerDatabaseOpener("postgres", openPostgres);
