/**
 * PostgreSQL credentials: never in the URI; from the environment variables that
 * `db_username_env` / `db_password_env` name; or from an AWS Secrets Manager secret
 * (served by a real moto_server), which takes precedence over db_uri.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { CreateSecretCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { Backend } from "../src/backend/index.ts";
import { makeProject, redun } from "./helpers/cli.ts";
import { FLOW, query, schemaObjects } from "./helpers/backend.ts";
import { motoAvailable, startMoto, type Moto } from "./helpers/moto.ts";
import { startPostgres, type Postgres } from "./helpers/postgres.ts";

const SCHEDULER = "[scheduler]\njob_status_interval = 0\n";

/** The error lines of a failed command (without the scheduler's own lines). */
function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l && !l.startsWith("[redun]"));
}

describe("PostgreSQL credentials", () => {
  let pg: Postgres;
  const dirs: string[] = [];
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
    await pg?.stop();
  });
  const project = (ini: string) => {
    const dir = makeProject({ ".redun/redun.ini": ini + SCHEDULER });
    dirs.push(dir);
    return dir;
  };

  test("a user name or password in db_uri is rejected before connecting", async () => {
    const { name } = await pg.createDatabase();
    const dir = project(
      `[backend]\ndb_uri = postgresql://${pg.user}:${pg.password}@127.0.0.1:${pg.port}/${name}\nautomigrate = true\n`,
    );
    for (const args of [["run", FLOW, "square", "--x", "2"], ["db", "info"], ["log"]]) {
      const result = redun(dir, args);
      assert.equal(result.code, 1, result.stderr);
      const lines = errorLines(result.stderr);
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0]!, /a username or password is not allowed in db_uri/);
      assert.doesNotMatch(result.stderr, new RegExp(pg.password));
    }
    assert.deepEqual(await schemaObjects({ dialect: "postgresql", pg, name, uri: "" }), []);
    // Code that opens a backend directly is held to the same rule.
    await assert.rejects(
      Backend.open({ dbUri: `postgresql://someone:secret@127.0.0.1:${pg.port}/${name}` }),
      /a username or password is not allowed in db_uri/,
    );
  });

  test("the login comes from the variables db_username_env and db_password_env name", async () => {
    await pg.query("CREATE ROLE flow_user LOGIN PASSWORD 'flow-pass'");
    const { name, uri } = await pg.createDatabase();
    await pg.query(`ALTER DATABASE "${name}" OWNER TO flow_user`);
    await pg.query("REVOKE ALL ON SCHEMA public FROM PUBLIC", [], name);
    await pg.query("ALTER SCHEMA public OWNER TO flow_user", [], name);
    const dir = project(
      `[backend]\ndb_uri = ${uri}\nautomigrate = true\n` +
        "db_username_env = FLOW_DB_USER\ndb_password_env = FLOW_DB_PASS\n",
    );
    // The default variables hold the admin login: they must not be used.
    const defaults = { REDUN_DB_USERNAME: pg.user, REDUN_DB_PASSWORD: pg.password };

    const missing = redun(dir, ["run", FLOW, "square", "--x", "3"], {
      ...defaults,
      FLOW_DB_USER: "flow_user",
    });
    assert.equal(missing.code, 1);
    assert.match(
      errorLines(missing.stderr)[0]!,
      /^redun: error: cannot log in to postgresql:\/\/127\.0\.0\.1:\d+\/\w+ as "flow_user": the server wants a password, and the environment variable FLOW_DB_PASS \(named by db_password_env\) is not set$/,
    );

    const wrong = redun(dir, ["run", FLOW, "square", "--x", "3"], {
      ...defaults,
      FLOW_DB_USER: "flow_user",
      FLOW_DB_PASS: "not-it",
    });
    assert.equal(wrong.code, 1);
    assert.match(
      errorLines(wrong.stderr)[0]!,
      /cannot log in to .* as "flow_user": password authentication failed for user "flow_user" \(credentials come from the environment variables FLOW_DB_USER and FLOW_DB_PASS\)$/,
    );
    assert.doesNotMatch(wrong.stderr, /not-it/);

    const ok = redun(dir, ["run", FLOW, "square", "--x", "3"], {
      ...defaults,
      FLOW_DB_USER: "flow_user",
      FLOW_DB_PASS: "flow-pass",
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), "9");
    const owners = await pg.query<{ tableowner: string }>(
      "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'",
      [],
      name,
    );
    assert.deepEqual(
      owners.map((o) => o.tableowner),
      ["flow_user"],
      "the schema was created by the configured login",
    );
    const info = redun(dir, ["db", "info"], {
      FLOW_DB_USER: "flow_user",
      FLOW_DB_PASS: "flow-pass",
    });
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /location: postgresql:\/\/127\.0\.0\.1:\d+\/\w+\n/);
    assert.match(info.stdout, /schema version: 3\n/);
  });

  describe(
    "AWS Secrets Manager",
    { skip: !motoAvailable() && "moto_server is not installed" },
    () => {
      let moto: Moto;
      let client: SecretsManagerClient;
      before(async () => {
        moto = await startMoto();
        client = new SecretsManagerClient({
          endpoint: moto.endpoint,
          region: "us-east-1",
          credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
        });
      });
      after(async () => {
        client?.destroy();
        await moto?.stop();
      });
      const secret = (name: string, value: Record<string, unknown>) =>
        client.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) }));

      test("db_aws_secret_name supplies the database and the login, over db_uri", async () => {
        const { name } = await pg.createDatabase();
        await secret("redun/shared-db", {
          engine: "postgres",
          username: pg.user,
          password: pg.password,
          host: "127.0.0.1",
          port: pg.port,
          dbname: name,
        });
        const dir = project(
          "[backend]\ndb_uri = sqlite:///must-not-be-used.db\n" +
            "db_aws_secret_name = redun/shared-db\nautomigrate = true\n",
        );
        // No database variables at all: everything comes from the secret.
        const env = { ...moto.env, REDUN_DB_USERNAME: "", REDUN_DB_PASSWORD: "" };
        const first = redun(dir, ["run", FLOW, "main", "--x", "2"], env);
        assert.equal(first.code, 0, first.stderr);
        assert.equal(first.stdout.trim(), "{ sum: 8, label: 'run' }");
        const second = redun(dir, ["run", FLOW, "main", "--x", "2"], env);
        assert.equal(second.code, 0, second.stderr);
        assert.match(second.stderr, /ALL\s+0\s+0\s+0\s+3\s+0\s+3/);
        assert.ok(!fs.existsSync(path.join(dir, ".redun", "must-not-be-used.db")));
        const jobs = await query<{ n: string }>(
          { dialect: "postgresql", pg, name, uri: "" },
          "SELECT count(*) AS n FROM job",
        );
        assert.equal(Number(jobs[0]!.n), 6);
        const info = redun(dir, ["db", "info"], env);
        assert.equal(info.code, 0, info.stderr);
        assert.match(
          info.stdout,
          new RegExp(`location: postgresql://127\\.0\\.0\\.1:${pg.port}/${name}\\n`),
        );
      });

      test("a missing or unsuitable secret is one clear error", async () => {
        await secret("redun/mysql-db", {
          engine: "mysql",
          username: "u",
          password: "p",
          host: "127.0.0.1",
          port: 3306,
          dbname: "x",
        });
        for (const [secretName, pattern] of [
          [
            "redun/no-such-secret",
            /^redun: error: cannot read the AWS secret "redun\/no-such-secret" \(db_aws_secret_name\): /,
          ],
          [
            "redun/mysql-db",
            /^redun: error: the secret "redun\/mysql-db" is for engine "mysql"; redun supports postgres/,
          ],
        ] as const) {
          const dir = project(`[backend]\ndb_aws_secret_name = ${secretName}\n`);
          const result = redun(dir, ["db", "info"], moto.env);
          assert.equal(result.code, 1, result.stderr);
          const lines = errorLines(result.stderr);
          assert.equal(lines.length, 1, result.stderr);
          assert.match(lines[0]!, pattern);
        }
      });
    },
  );
});
