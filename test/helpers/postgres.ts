/**
 * A real PostgreSQL server for tests, started in a temporary directory on a free port bound
 * to 127.0.0.1 and stopped by `stop()` (or when the test process exits).
 *
 * - `REDUN_TEST_PG=host:port:user:password` uses a server that is already running instead
 *   (the user must be allowed to create databases).
 * - Otherwise the server binaries are looked up on PATH and in /usr/lib/postgresql/N/bin;
 *   when there are none and we are root, `apt-get install -y postgresql` installs them
 *   (Debian's package), with an `apt-get update` first if the install fails.
 * - initdb refuses to run as root, so as root the cluster belongs to the `postgres` user
 *   (created by the package) and the server is started through `runuser`.
 *
 * @example
 * const pg = await startPostgres();
 * after(() => pg.stop());
 * const { uri } = await pg.createDatabase();   // postgresql://127.0.0.1:PORT/redun_test_N
 * // pg.env: REDUN_DB_USERNAME / REDUN_DB_PASSWORD for the admin login
 */
import { execFile, spawnSync, type SpawnSyncReturns } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { freePort } from "./moto.ts";

/** A running PostgreSQL server. */
export interface Postgres {
  host: string;
  port: number;
  user: string;
  password: string;
  /** `REDUN_DB_USERNAME` / `REDUN_DB_PASSWORD` for the admin login. */
  env: Record<string, string>;
  /** Creates an empty database; its URI has no credentials. */
  createDatabase(name?: string): Promise<{ name: string; uri: string }>;
  /** Runs SQL as the admin user (in `database`, default `postgres`). */
  query<T = Record<string, any>>(text: string, params?: unknown[], database?: string): Promise<T[]>;
  /**
   * Simulates an outage of a server this helper started (undefined with REDUN_TEST_PG):
   * `down()` is `pg_ctl stop -m immediate`, `up()` starts it again on the same port. Both
   * run pg_ctl asynchronously, so a scheduler in the test process keeps running meanwhile.
   */
  outage?: { down(): Promise<void>; up(): Promise<void> };
  stop(): Promise<void>;
}

let databaseCounter = 0;

function run(
  command: string,
  args: string[],
  options: { user?: string } = {},
): SpawnSyncReturns<string> {
  const [cmd, argv] =
    options.user !== undefined
      ? ["runuser", ["-u", options.user, "--", command, ...args]]
      : [command, args];
  return spawnSync(cmd, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

function check(result: SpawnSyncReturns<string>, what: string): void {
  if (result.status !== 0) {
    throw new Error(
      `${what} failed (exit ${result.status ?? result.signal}): ${result.error?.message ?? ""}\n${result.stdout}\n${result.stderr}`,
    );
  }
}

/** The directory holding initdb, pg_ctl and postgres, or undefined. */
function findBinaries(): string | undefined {
  const onPath = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" });
  if (onPath.status === 0 && onPath.stdout.trim()) {
    return path.dirname(fs.realpathSync(onPath.stdout.trim()));
  }
  const root = "/usr/lib/postgresql";
  if (!fs.existsSync(root)) return undefined;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0]!, "bin") : undefined;
}

/**
 * Installs Debian's PostgreSQL when it is missing (as root only). Test files run in
 * parallel, so the install holds a lock file (flock) and checks again once it has it.
 */
function installPostgres(): string {
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) {
    throw new Error(
      "PostgreSQL is not installed (no initdb) and this is not root: install the postgresql package, " +
        "or set REDUN_TEST_PG=host:port:user:password to use a running server",
    );
  }
  const script = [
    "set -e",
    "ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && exit 0",
    "apt='apt-get -o DPkg::Lock::Timeout=300 -y -q'",
    "$apt install --no-install-recommends postgresql || { $apt update && $apt install --no-install-recommends postgresql; }",
  ].join("\n");
  const result = spawnSync(
    "flock",
    [path.join(os.tmpdir(), "redun-test-postgres-install.lock"), "sh", "-c", script],
    { encoding: "utf8", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } },
  );
  check(result, "apt-get install -y postgresql");
  const bin = findBinaries();
  if (!bin) throw new Error("apt-get installed postgresql, but no initdb was found");
  return bin;
}

function fromEnvironment(
  spec: string,
): Omit<Postgres, "createDatabase" | "query" | "env" | "stop"> {
  const [host, port, user, ...password] = spec.split(":");
  if (!host || !port || !user)
    throw new Error(`REDUN_TEST_PG must be host:port:user:password, got "${spec}"`);
  return { host, port: Number(port), user, password: password.join(":") };
}

/** Starts a throwaway PostgreSQL server (or uses the one REDUN_TEST_PG names). */
export async function startPostgres(): Promise<Postgres> {
  let server: Omit<Postgres, "createDatabase" | "query" | "env" | "stop">;
  let stopServer = async () => {};
  let outage: Postgres["outage"];
  if (process.env.REDUN_TEST_PG) {
    server = fromEnvironment(process.env.REDUN_TEST_PG);
  } else {
    const bin = findBinaries() ?? installPostgres();
    const isRoot = process.getuid?.() === 0;
    const owner = isRoot ? "postgres" : undefined;
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "redun-pg-"));
    const dataDir = path.join(base, "data");
    const password = "redun-test-password";
    fs.writeFileSync(path.join(base, "pwfile"), password + "\n");
    if (isRoot) {
      const id = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
      const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
      if (id.status !== 0)
        throw new Error("running as root, but there is no postgres user to own the test cluster");
      fs.chownSync(base, Number(id.stdout), Number(gid.stdout));
      fs.chownSync(path.join(base, "pwfile"), Number(id.stdout), Number(gid.stdout));
    }
    check(
      run(
        path.join(bin, "initdb"),
        [
          "-D",
          dataDir,
          "-U",
          "redun_admin",
          `--pwfile=${path.join(base, "pwfile")}`,
          "--auth-host=scram-sha-256",
          "--auth-local=trust",
          "--encoding=UTF8",
          "--no-sync",
        ],
        { user: owner },
      ),
      "initdb",
    );
    // Another process may take the free port before the server binds it: try a few.
    let port = 0;
    let serverOptions = "";
    // The same start for the first time and after an outage (see `outage.up`).
    const startArgs = () => [
      ...["-D", dataDir, "-l", path.join(base, "server.log"), "-o", serverOptions],
      ...["-w", "-t", "60", "start"],
    ];
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      serverOptions = [
        `-p ${port}`,
        "-c listen_addresses=127.0.0.1",
        `-k ${base}`,
        "-c fsync=off",
        "-c synchronous_commit=off",
        "-c full_page_writes=off",
        "-c max_connections=200",
      ].join(" ");
      const started = run(path.join(bin, "pg_ctl"), startArgs(), { user: owner });
      if (started.status === 0) break;
      if (attempt >= 3) {
        const log = fs.existsSync(path.join(base, "server.log"))
          ? fs.readFileSync(path.join(base, "server.log"), "utf8").slice(-2000)
          : "";
        check(started, `pg_ctl start (server log: ${log})`);
      }
    }
    let stopped = false;
    const stopNow = () => {
      if (stopped) return;
      stopped = true;
      run(path.join(bin, "pg_ctl"), ["-D", dataDir, "-m", "immediate", "-w", "stop"], {
        user: owner,
      });
      fs.rmSync(base, { recursive: true, force: true });
    };
    process.once("exit", stopNow);
    const pgCtl = (args: string[]) =>
      new Promise<void>((resolve, reject) => {
        const [cmd, argv] = owner
          ? ["runuser", ["-u", owner, "--", path.join(bin, "pg_ctl"), ...args]]
          : [path.join(bin, "pg_ctl"), args];
        execFile(cmd, argv, (error, stdout, stderr) =>
          error
            ? reject(new Error(`pg_ctl ${args.at(-1)}: ${error.message}\n${stderr}`))
            : resolve(),
        );
      });
    outage = {
      down: () => pgCtl(["-D", dataDir, "-m", "immediate", "-w", "stop"]),
      up: () => pgCtl(startArgs()),
    };
    stopServer = async () => {
      process.off("exit", stopNow);
      stopNow();
    };
    server = { host: "127.0.0.1", port, user: "redun_admin", password };
  }

  const query = async <T>(
    text: string,
    params: unknown[] = [],
    database = "postgres",
  ): Promise<T[]> => {
    const client = new pg.Client({ ...server, database });
    await client.connect();
    try {
      return (await client.query(text, params as any[])).rows as T[];
    } finally {
      await client.end();
    }
  };
  const created: string[] = [];
  return {
    ...server,
    env: { REDUN_DB_USERNAME: server.user, REDUN_DB_PASSWORD: server.password },
    query,
    outage,
    async createDatabase(name = `redun_test_${process.pid}_${++databaseCounter}`) {
      await query(`CREATE DATABASE "${name}"`);
      created.push(name);
      return { name, uri: `postgresql://${server.host}:${server.port}/${name}` };
    },
    async stop() {
      if (process.env.REDUN_TEST_PG) {
        for (const name of created)
          await query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
      }
      await stopServer();
    },
  };
}
