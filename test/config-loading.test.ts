/**
 * Loading the configuration, as the configuration document describes it: where
 * `.redun/redun.ini` is found (and created), the default file, interpolation, every typed
 * section and option with its default (backend, scheduler, limits, executors, federated
 * tasks) read through `Config` and the executor option schemas, parseOptions and
 * shellSplit, federated_configs imports, and serializing a Config. Every test works in a
 * temporary directory; fixtures under test/fixtures/config are copied there.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import {
  Config,
  DEFAULT_INI,
  findConfigDir,
  loadConfig,
  CONFIG_FILE_NAME,
  type Env,
} from "../src/config/config.ts";
import { ConfigError } from "../src/config/config-error.ts";
import {
  AWS_BATCH_SCHEMA,
  EXECUTOR_SCHEMAS,
  executorSchema,
  registerExecutorSchema,
} from "../src/executors/schemas.ts";
import { parseIni } from "../src/config/ini.ts";
import { parseOptions, shellSplit, type OptionSchema } from "../src/config/option-schema.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/config/", import.meta.url));

const made: string[] = [];
after(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A new temporary directory (real path, so that it compares equal to resolved paths). */
function tmp(): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "redun-config-")));
  made.push(dir);
  return dir;
}

/** Writes `files` (name → content) under `dir`. */
function write(dir: string, files: Record<string, string>): void {
  for (const [name, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), content);
  }
}

/** Writes `dir/redun.ini` (making `dir`); returns `dir`. */
function writeIni(dir: string, text: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "redun.ini"), text);
  return dir;
}

/** Installs the fixture `name.ini` as `dir/redun.ini`; returns `dir`. */
function installFixture(name: string, dir: string): string {
  return writeIni(dir, fs.readFileSync(path.join(FIXTURES, `${name}.ini`), "utf8"));
}

const lines = (...l: string[]): string => l.join("\n") + "\n";

const CONFIG_DIR = "/project/.redun";
/** A configuration from text, in a fixed (not necessarily existing) directory. */
function config(text: string, env: Record<string, string> = {}): Config {
  return Config.fromString(text, { configDir: CONFIG_DIR, env });
}

/** A configuration from text, in a fresh `<tmp>/.redun` with an empty environment. */
function configOf(text: string, env: Env = {}): Config {
  return Config.fromString(text, { configDir: path.join(tmp(), ".redun"), env });
}

/** Asserts a ConfigError whose message matches every pattern; returns the message. */
function configError(fn: () => unknown, ...patterns: RegExp[]): string {
  let message = "";
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    message = error.message;
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  });
  return message;
}

/** Asserts that `fn` throws a ConfigError whose message contains every part. */
function throwsConfigError(fn: () => unknown, ...parts: (string | RegExp)[]): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  for (const part of parts) {
    if (typeof part === "string") {
      assert.ok(caught.message.includes(part), `${JSON.stringify(part)} not in: ${caught.message}`);
    } else {
      assert.match(caught.message, part);
    }
  }
  return caught;
}

/** A marker in [limits], to tell configuration directories apart. */
const marked = (dir: string, marker: number): string =>
  writeIni(dir, lines("[limits]", `marker = ${marker}`));

describe("discovery: --config, REDUN_CONFIG, upward search, creation", () => {
  const ini = (name: string) => `[limits]\n${name} = 1\n`;
  const which = (c: Config) => Object.keys(c.limits)[0];

  test("--config wins over REDUN_CONFIG and the search, relative to cwd", () => {
    const root = tmp();
    write(root, {
      "flag/redun.ini": ini("flag"),
      "envdir/redun.ini": ini("env"),
      "work/.redun/redun.ini": ini("search"),
    });
    const c = loadConfig({
      configDir: "../flag",
      cwd: path.join(root, "work"),
      env: { REDUN_CONFIG: path.join(root, "envdir") },
    });
    assert.equal(c.configDir, path.join(root, "flag"));
    assert.equal(c.path, path.join(root, "flag", CONFIG_FILE_NAME));
    assert.equal(which(c), "flag");
  });

  test("REDUN_CONFIG wins over the search", () => {
    const root = tmp();
    write(root, { "envdir/redun.ini": ini("env"), "work/.redun/redun.ini": ini("search") });
    const c = loadConfig({ cwd: path.join(root, "work"), env: { REDUN_CONFIG: "../envdir" } });
    assert.equal(c.configDir, path.join(root, "envdir"));
    assert.equal(which(c), "env");
  });

  test("an empty REDUN_CONFIG counts as unset", () => {
    const root = tmp();
    write(root, { "work/.redun/redun.ini": ini("search") });
    const c = loadConfig({ cwd: path.join(root, "work"), env: { REDUN_CONFIG: "" } });
    assert.equal(which(c), "search");
  });

  test("the search finds the nearest .redun/ upward from cwd", () => {
    const root = tmp();
    write(root, { ".redun/redun.ini": ini("outer"), "a/.redun/redun.ini": ini("inner") });
    fs.mkdirSync(path.join(root, "a/b/c"), { recursive: true });
    const inner = loadConfig({ cwd: path.join(root, "a/b/c"), env: {} });
    assert.equal(inner.configDir, path.join(root, "a/.redun"));
    assert.equal(which(inner), "inner");
    fs.mkdirSync(path.join(root, "x/y"), { recursive: true });
    assert.equal(which(loadConfig({ cwd: path.join(root, "x/y"), env: {} })), "outer");
  });

  test("a file named .redun is not a configuration directory", () => {
    const root = tmp();
    write(root, { ".redun/redun.ini": ini("dir"), "a/.redun": "not a directory" });
    assert.deepEqual(findConfigDir({ cwd: path.join(root, "a"), env: {} }), {
      dir: path.join(root, ".redun"),
      create: false,
    });
  });

  test("otherwise .redun/ is created in cwd with the default redun.ini", () => {
    const root = tmp();
    assert.deepEqual(findConfigDir({ cwd: root, env: {} }), {
      dir: path.join(root, ".redun"),
      create: true,
    });
    const c = loadConfig({ cwd: root, env: {} });
    assert.equal(c.configDir, path.join(root, ".redun"));
    assert.equal(fs.readFileSync(path.join(root, ".redun", "redun.ini"), "utf8"), DEFAULT_INI);
    // A second load finds it (and does not rewrite it).
    fs.appendFileSync(path.join(root, ".redun", "redun.ini"), "[limits]\nmine = 3\n");
    assert.deepEqual(loadConfig({ cwd: root, env: {} }).limits, { mine: 3 });
  });

  test("a found .redun/ without redun.ini gets the default file", () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, ".redun"));
    fs.mkdirSync(path.join(root, "sub"));
    const c = loadConfig({ cwd: path.join(root, "sub"), env: {} });
    assert.equal(c.configDir, path.join(root, ".redun"));
    assert.ok(fs.existsSync(path.join(root, ".redun", "redun.ini")));
    assert.equal(c.executors.default?.type, "local");
  });

  test("--config naming a missing directory, or one without redun.ini, is an error", () => {
    const root = tmp();
    configError(
      () => loadConfig({ configDir: "nowhere", cwd: root, env: {} }),
      /^--config nowhere: .*nowhere has no redun\.ini$/,
    );
    fs.mkdirSync(path.join(root, "empty"));
    configError(
      () => loadConfig({ configDir: "empty", cwd: root, env: {} }),
      /^--config empty: .*empty has no redun\.ini$/,
    );
    assert.ok(!fs.existsSync(path.join(root, "empty", "redun.ini")), "nothing is created");
  });

  test("REDUN_CONFIG naming a directory without redun.ini is an error", () => {
    const root = tmp();
    configError(
      () => loadConfig({ cwd: root, env: { REDUN_CONFIG: "/no/such/dir" } }),
      /^REDUN_CONFIG=\/no\/such\/dir: \/no\/such\/dir has no redun\.ini$/,
    );
  });

  test("an explicit configDir wins over REDUN_CONFIG and the search", () => {
    const root = tmp();
    const explicit = marked(path.join(root, "explicit"), 1);
    const fromEnv = marked(path.join(root, "env"), 2);
    marked(path.join(root, "cwd", ".redun"), 3);
    const cwd = path.join(root, "cwd");
    const config = loadConfig({ configDir: explicit, cwd, env: { REDUN_CONFIG: fromEnv } });
    assert.equal(config.configDir, explicit);
    assert.equal(config.path, path.join(explicit, "redun.ini"));
    assert.equal(config.limits.marker, 1);
    assert.deepEqual(findConfigDir({ configDir: explicit, cwd, env: {} }), {
      dir: explicit,
      create: false,
    });
  });

  test("a relative configDir is relative to cwd", () => {
    const root = tmp();
    marked(path.join(root, "conf"), 7);
    const config = loadConfig({ configDir: "../conf", cwd: path.join(root, "sub"), env: {} });
    assert.equal(config.configDir, path.join(root, "conf"));
    assert.equal(config.limits.marker, 7);
  });

  test("REDUN_CONFIG (from the env option) wins over the search, relative to cwd", () => {
    const root = tmp();
    const fromEnv = marked(path.join(root, "env"), 2);
    marked(path.join(root, "cwd", ".redun"), 3);
    const cwd = path.join(root, "cwd");
    assert.equal(loadConfig({ cwd, env: { REDUN_CONFIG: fromEnv } }).limits.marker, 2);
    assert.equal(loadConfig({ cwd, env: { REDUN_CONFIG: "../env" } }).configDir, fromEnv);
  });

  test("the search finds the nearest .redun/ from a nested cwd upward", () => {
    const root = tmp();
    const top = marked(path.join(root, ".redun"), 1);
    const deep = path.join(root, "a", "b", "c");
    fs.mkdirSync(deep, { recursive: true });
    assert.deepEqual(findConfigDir({ cwd: deep, env: {} }), { dir: top, create: false });
    assert.equal(loadConfig({ cwd: deep, env: {} }).limits.marker, 1);

    const nearer = marked(path.join(root, "a", ".redun"), 2);
    const config = loadConfig({ cwd: deep, env: {} });
    assert.equal(config.configDir, nearer);
    assert.equal(config.limits.marker, 2);
  });

  test("without any, .redun/redun.ini is created in cwd, with working defaults", (t) => {
    const cwd = path.join(tmp(), "project");
    fs.mkdirSync(cwd);
    const found = findConfigDir({ cwd, env: {} });
    if (!found.create) {
      t.skip(`a .redun/ above the temporary directory is in the way: ${found.dir}`);
      return;
    }
    const dir = path.join(cwd, ".redun");
    assert.equal(found.dir, dir);
    assert.equal(fs.existsSync(dir), false);

    const config = loadConfig({ cwd, env: {} });
    const file = path.join(dir, "redun.ini");
    assert.equal(config.configDir, dir);
    assert.equal(config.path, file);
    assert.ok(fs.statSync(file).isFile());
    assert.deepEqual(config.warnings, []);

    // The file is valid INI on its own.
    const ini = parseIni(fs.readFileSync(file, "utf8"), { source: file, env: {} });
    assert.ok(ini.sections.includes("backend"));
    assert.equal(ini.values["executors.default"]!.type, "local");

    const backend = config.backend;
    assert.equal(backend.dbUri, "sqlite:///redun.db");
    assert.equal(backend.dialect, "sqlite");
    assert.equal(backend.sqlitePath, path.join(dir, "redun.db"));
    assert.equal(backend.automigrate, true);
    assert.equal(config.executors.default?.type, "local");
    assert.equal(config.executorOptions("default")?.values.mode, "thread");

    // Found (not created) the next time, and left as it was.
    const before = fs.readFileSync(file, "utf8");
    assert.deepEqual(findConfigDir({ cwd, env: {} }), { dir, create: false });
    loadConfig({ cwd, env: {} });
    assert.equal(fs.readFileSync(file, "utf8"), before);
  });

  test("an explicit configDir without redun.ini is an error naming --config", () => {
    const root = tmp();
    const empty = path.join(root, "empty");
    fs.mkdirSync(empty);
    throwsConfigError(
      () => loadConfig({ configDir: empty, cwd: root, env: {} }),
      "--config",
      empty,
    );
    throwsConfigError(
      () => loadConfig({ configDir: path.join(root, "missing"), cwd: root, env: {} }),
      "--config",
    );
    assert.equal(fs.existsSync(path.join(empty, "redun.ini")), false, "nothing is created");
    assert.equal(fs.existsSync(path.join(root, "missing")), false);
  });

  test("REDUN_CONFIG pointing nowhere is an error naming REDUN_CONFIG", () => {
    const root = tmp();
    marked(path.join(root, ".redun"), 1); // not used instead
    const nowhere = path.join(root, "nowhere");
    throwsConfigError(
      () => loadConfig({ cwd: root, env: { REDUN_CONFIG: nowhere } }),
      "REDUN_CONFIG",
      nowhere,
    );
    assert.equal(fs.existsSync(nowhere), false, "nothing is created");
  });

  test("the env option supplies ${NAME} variables", () => {
    const root = tmp();
    writeIni(path.join(root, ".redun"), lines("[backend]", "db_uri = sqlite:///${DB_FILE}"));
    const config = loadConfig({ cwd: root, env: { DB_FILE: "from-env.db" } });
    assert.equal(config.backend.sqlitePath, path.join(root, ".redun", "from-env.db"));
  });
});

describe("the default redun.ini", () => {
  const c = config(DEFAULT_INI);

  test("yields the documented defaults, without warnings", () => {
    assert.deepEqual(c.backend, {
      dbUri: "sqlite:///redun.db",
      dialect: "sqlite",
      sqlitePath: path.join(CONFIG_DIR, "redun.db"),
      automigrate: true,
      dbUsernameEnv: "REDUN_DB_USERNAME",
      dbPasswordEnv: "REDUN_DB_PASSWORD",
      dbAwsSecretName: undefined,
      maxValueSize: 1_000_000_000,
      valueStorePath: undefined,
      valueStoreMinSize: undefined,
      dbRetries: 1000,
      dbRetryMaxWait: 300,
    });
    assert.deepEqual(c.scheduler, {
      ignoreWarnings: new Set(),
      setupScheduler: undefined,
      jobStatusInterval: 20,
      callLease: 20,
      federatedConfigs: [],
      context: undefined,
      logLevel: "INFO",
    });
    assert.deepEqual(c.limits, {});
    assert.deepEqual(c.executors, {
      default: {
        type: "local",
        options: { max_workers: "20" },
        source: path.join(CONFIG_DIR, "redun.ini"),
        configDir: CONFIG_DIR,
      },
    });
    assert.deepEqual(c.executorOptions("default")!.values, {
      mode: "thread",
      max_workers: 20,
      start_method: "fork",
      timeout: undefined,
      max_memory: undefined,
    });
    assert.deepEqual(c.federatedTasks, {});
    assert.deepEqual(c.warnings, []);
    assert.deepEqual(c.sections(), ["backend", "scheduler", "executors.default"]);
  });

  test("its commented examples are valid when uncommented", () => {
    const examples = DEFAULT_INI.slice(DEFAULT_INI.indexOf("# [executors.procs]"))
      .split("\n")
      .map((line) => line.replace(/^# /, ""))
      .join("\n");
    const full = config(`[executors.default]\ntype = local\n${examples}`, {
      REDUN_ROLE: "arn:aws:iam::1:role/r",
    });
    assert.deepEqual(Object.keys(full.executors), [
      "default",
      "procs",
      "other_name",
      "docker",
      "batch",
      "glue",
      "k8s",
    ]);
    for (const name of Object.keys(full.executors)) {
      assert.deepEqual(full.executorOptions(name)!.warnings, [], name);
    }
    assert.equal(full.executorOptions("batch")!.values.role, "arn:aws:iam::1:role/r");
    assert.equal(full.executorOptions("docker")!.values.scratch, path.join(CONFIG_DIR, "scratch"));
    assert.deepEqual(full.limits, { db: 10 });
    assert.equal(full.federatedTasks.my_entrypoint!.executor, "batch");
    assert.deepEqual(full.warnings, []);
  });
});

describe("interpolation in redun.ini", () => {
  const env = { REDUN_ROLE: "arn:env-role", BUCKET: "env-bucket" };
  const c = config(
    [
      "[DEFAULT]",
      "bucket = default-bucket",
      "[executors.batch]",
      "type = aws_batch",
      "image = img",
      "queue = q",
      "prefix = redun",
      "s3_scratch = s3://${bucket}/${prefix}/",
      "role = ${REDUN_ROLE}",
      "[executors.other]",
      "type = aws_batch",
      "bucket = own-bucket",
      "image = ${executors.batch:image}",
      "queue = q",
      "s3_scratch = s3://${bucket}/x/",
      "job_name_prefix = ${BUCKET}",
    ].join("\n"),
    env,
  );

  test("from the same section, DEFAULT, another section, and the environment", () => {
    const batch = c.executors.batch!.options;
    assert.equal(batch.s3_scratch, "s3://default-bucket/redun/");
    assert.equal(batch.role, "arn:env-role");
    const other = c.executors.other!.options;
    assert.equal(other.s3_scratch, "s3://own-bucket/x/");
    assert.equal(other.image, "img");
    // Keys are case-insensitive, so ${BUCKET} is the [DEFAULT] bucket, not the variable.
    assert.equal(other.job_name_prefix, "own-bucket");
    assert.equal(c.get("executors.batch", "ROLE"), "arn:env-role");
    assert.equal(c.get("executors.batch", "missing", "fallback"), "fallback");
  });

  test("DEFAULT keys reach an executor only when its type declares them, without warnings", () => {
    assert.ok(!("bucket" in c.executors.batch!.options));
    assert.ok(!("prefix" in c.executorOptions("batch")!.values));
    assert.deepEqual(c.executorOptions("batch")!.warnings, [
      '[executors.batch] in /project/.redun/redun.ini: unknown option "prefix" (known: ' +
        Object.keys(AWS_BATCH_SCHEMA).join(", ") +
        ")",
    ]);
    const d = config(
      "[DEFAULT]\nvcpus = 8\nunrelated = 1\n[executors.b]\ntype = aws_batch\nimage = i\nqueue = q\ns3_scratch = s3://b/\n",
    );
    assert.equal(d.executorOptions("b")!.values.vcpus, 8);
    assert.deepEqual(d.executorOptions("b")!.warnings, []);
  });

  test("an unresolvable reference names the file, section and key", () => {
    configError(
      () => config("[backend]\ndb_uri = sqlite:///${NOPE}/x.db\n"),
      /^\/project\/\.redun\/redun\.ini: \[backend\] db_uri: \$\{NOPE\} is not defined/,
    );
  });
});

describe("[backend]", () => {
  const backend = (lines: string, env: Record<string, string> = {}) =>
    config(`[backend]\n${lines}\n`, env).backend;

  test("db_uri: relative, absolute and in-memory sqlite", () => {
    assert.equal(backend("db_uri = sqlite:///redun.db").sqlitePath, "/project/.redun/redun.db");
    assert.equal(backend("db_uri = sqlite:///../data/r.db").sqlitePath, "/project/data/r.db");
    assert.equal(backend("db_uri = sqlite:////var/lib/r.db").sqlitePath, "/var/lib/r.db");
    assert.equal(backend("db_uri = sqlite:///:memory:").sqlitePath, ":memory:");
    assert.equal(backend("db_uri = sqlite://").sqlitePath, ":memory:");
    assert.equal(backend("db_uri = sqlite:///:memory:").dialect, "sqlite");
  });

  test("db_uri: postgresql and postgres", () => {
    for (const uri of ["postgresql://db.host:5432/redun", "postgres://db.host/redun"]) {
      const b = backend(`db_uri = ${uri}`);
      assert.equal(b.dialect, "postgresql");
      assert.equal(b.dbUri, uri);
      assert.equal(b.sqlitePath, undefined);
    }
  });

  test("db_uri: credentials in the URI are rejected, pointing to the env options", () => {
    for (const uri of [
      "postgresql://me:pw@host/db",
      "postgresql://me@host/db",
      "postgres://:pw@host/db",
    ]) {
      configError(
        () => backend(`db_uri = ${uri}`),
        /^\[backend\] in \/project\/\.redun\/redun\.ini db_uri: a username or password is not allowed/,
        /db_username_env and db_password_env/,
      );
    }
  });

  test("db_uri: other schemes are rejected", () => {
    for (const uri of ["mysql://host/db", "sqlite:relative.db", "redun.db", "postgresql://[bad"]) {
      configError(
        () => backend(`db_uri = ${uri}`),
        /^\[backend\] in \/project\/\.redun\/redun\.ini db_uri: /,
      );
    }
  });

  test("automigrate: true for sqlite, false otherwise, unless set", () => {
    assert.equal(backend("db_uri = sqlite:///r.db").automigrate, true);
    assert.equal(backend("db_uri = postgresql://h/db").automigrate, false);
    assert.equal(backend("db_uri = postgresql://h/db\nautomigrate = yes").automigrate, true);
    assert.equal(backend("db_uri = sqlite:///r.db\nautomigrate = Off").automigrate, false);
    assert.equal(config("").backend.automigrate, true, "no [backend] at all");
  });

  test("db_aws_secret_name: the database is PostgreSQL and db_uri is ignored", () => {
    const b = backend("db_uri = not-a-uri\ndb_aws_secret_name = prod/redun");
    assert.equal(b.dbAwsSecretName, "prod/redun");
    assert.equal(b.dialect, "postgresql");
    assert.equal(b.automigrate, false);
  });

  test("credentials variables, sizes and the value store", () => {
    const b = backend(
      "db_username_env = MY_USER\ndb_password_env = MY_PW\nmax_value_size = 1000\n" +
        "value_store_path = values\nvalue_store_min_size = 100",
    );
    assert.equal(b.dbUsernameEnv, "MY_USER");
    assert.equal(b.dbPasswordEnv, "MY_PW");
    assert.equal(b.maxValueSize, 1000);
    assert.equal(b.valueStorePath, "/project/.redun/values");
    assert.equal(b.valueStoreMinSize, 100);
    assert.equal(
      backend("value_store_path = s3://bucket/values/").valueStorePath,
      "s3://bucket/values/",
    );
    assert.equal(backend("value_store_path = /abs/values").valueStorePath, "/abs/values");
    assert.equal(backend("value_store_path = None").valueStorePath, undefined);
  });

  test("malformed values name the section, key and value", () => {
    configError(
      () => backend("max_value_size = 1GB"),
      /^\[backend\] in \/project\/\.redun\/redun\.ini max_value_size: expected a whole number, got "1GB"$/,
    );
    configError(
      () => backend("automigrate = maybe"),
      /^\[backend\] in .* automigrate: expected true or false .*, got "maybe"$/,
    );
    configError(
      () => backend("value_store_min_size = -1"),
      /\[backend\] in .* value_store_min_size: expected a whole number of at least 0, got "-1"/,
    );
  });

  test("unknown keys are warnings", () => {
    const c = config("[backend]\ndb_url = sqlite:///x.db\n");
    assert.equal(c.warnings.length, 1);
    assert.match(
      c.warnings[0]!,
      /^\[backend\] in \/project\/\.redun\/redun\.ini: unknown option "db_url" \(known: db_uri, /,
    );
  });

  const backendOf = (...body: string[]) => {
    const config = configOf(lines("[backend]", ...body));
    return { config, backend: config.backend };
  };

  test("defaults", () => {
    const { config, backend } = backendOf();
    assert.deepEqual(backend, {
      dbUri: "sqlite:///redun.db",
      dialect: "sqlite",
      sqlitePath: path.join(config.configDir, "redun.db"),
      automigrate: true,
      dbUsernameEnv: "REDUN_DB_USERNAME",
      dbPasswordEnv: "REDUN_DB_PASSWORD",
      dbAwsSecretName: undefined,
      maxValueSize: 1_000_000_000,
      valueStorePath: undefined,
      valueStoreMinSize: undefined,
      dbRetries: 1000,
      dbRetryMaxWait: 300,
    });
    // The same without a [backend] section at all.
    assert.deepEqual(configOf("").backend.maxValueSize, 1_000_000_000);
  });

  test("db_uri: a relative sqlite path is relative to the configuration directory", () => {
    for (const [uri, rel] of [
      ["sqlite:///redun.db", "redun.db"],
      ["sqlite:///data/x.db", "data/x.db"],
      ["sqlite:///../shared.db", "../shared.db"],
    ] as const) {
      const { config, backend } = backendOf(`db_uri = ${uri}`);
      assert.equal(backend.dialect, "sqlite");
      assert.equal(backend.sqlitePath, path.resolve(config.configDir, rel), uri);
      assert.equal(backend.dbUri, uri, "kept as written");
    }
  });

  test("db_uri: an absolute sqlite path has four slashes", () => {
    const { backend } = backendOf("db_uri = sqlite:////abs/x.db");
    assert.equal(backend.sqlitePath, "/abs/x.db");
  });

  test("db_uri: in-memory sqlite", () => {
    for (const uri of ["sqlite:///:memory:", "sqlite://"]) {
      const { backend } = backendOf(`db_uri = ${uri}`);
      assert.equal(backend.dialect, "sqlite");
      assert.equal(backend.sqlitePath, ":memory:", uri);
      assert.equal(backend.automigrate, true);
    }
  });

  test("db_uri: sqlite:/// without a path is in memory (SQLAlchemy: database or :memory:)", () => {
    assert.equal(backendOf("db_uri = sqlite:///").backend.sqlitePath, ":memory:");
  });

  test("db_uri: a query string is not part of the sqlite file name", () => {
    const { config, backend } = backendOf("db_uri = sqlite:///redun.db?timeout=5");
    assert.equal(backend.sqlitePath, path.join(config.configDir, "redun.db"));
  });

  test("db_uri: other schemes are rejected", () => {
    for (const uri of ["mysql://host/redun", "redun.db", "http://host/db", "sqlite:/x.db"]) {
      throwsConfigError(() => backendOf(`db_uri = ${uri}`), "[backend]", "db_uri", uri);
    }
  });

  test("automigrate: true for sqlite, false for postgresql, unless set", () => {
    const pg = "db_uri = postgresql://host/redun";
    assert.equal(backendOf().backend.automigrate, true);
    assert.equal(backendOf(pg).backend.automigrate, false);
    assert.equal(backendOf("automigrate = false").backend.automigrate, false);
    assert.equal(backendOf("automigrate = no").backend.automigrate, false);
    assert.equal(backendOf(pg, "automigrate = true").backend.automigrate, true);
    assert.equal(backendOf(pg, "automigrate = On").backend.automigrate, true);
    throwsConfigError(() => backendOf("automigrate = maybe"), "automigrate", "maybe");
  });

  test("max_value_size: default 1000000000, custom, malformed", () => {
    assert.equal(backendOf().backend.maxValueSize, 1000000000);
    assert.equal(backendOf("max_value_size = 2048").backend.maxValueSize, 2048);
    throwsConfigError(() => backendOf("max_value_size = 1GB"), "max_value_size", "1GB");
  });

  test("value_store_path: relative to the configuration directory; absolute and s3:// kept", () => {
    const rel = backendOf("value_store_path = values/");
    assert.equal(rel.backend.valueStorePath, path.join(rel.config.configDir, "values"));
    const up = backendOf("value_store_path = ../shared/values");
    assert.equal(up.backend.valueStorePath, path.resolve(up.config.configDir, "../shared/values"));
    assert.equal(backendOf("value_store_path = /abs/values").backend.valueStorePath, "/abs/values");
    assert.equal(
      backendOf("value_store_path = s3://bucket/prefix/").backend.valueStorePath,
      "s3://bucket/prefix/",
    );
  });

  test("value_store_min_size", () => {
    assert.equal(backendOf("value_store_min_size = 1024").backend.valueStoreMinSize, 1024);
    assert.equal(backendOf().backend.valueStoreMinSize, undefined);
    throwsConfigError(() => backendOf("value_store_min_size = big"), "value_store_min_size");
  });
});

describe("raw access", () => {
  test("get and section: interpolated, DEFAULT included, keys case-insensitive", () => {
    const config = configOf(lines("[DEFAULT]", "shared = s", "[mine]", "Key = ${shared}-k"));
    assert.equal(config.get("mine", "KEY"), "s-k");
    assert.equal(config.get("mine", "shared"), "s");
    assert.equal(config.get("mine", "missing", "fallback"), "fallback");
    assert.equal(config.get("nosection", "x"), undefined);
    assert.deepEqual(config.section("mine"), { shared: "s", key: "s-k" });
    assert.equal(config.section("nosection"), undefined);
  });

  test("get of a key named like an Object.prototype member is undefined", () => {
    assert.equal(configOf("[backend]\n").get("backend", "constructor"), undefined);
  });
});

describe("[scheduler]", () => {
  test("options, with relative federated_configs resolved", () => {
    const root = tmp();
    write(root, { "a/redun.ini": "", "b c/redun.ini": "" });
    const c = Config.fromString(
      [
        "[scheduler]",
        "ignore_warnings = namespace  other",
        "setup_scheduler = ../workflow.ts::setup_scheduler",
        "job_status_interval = 0",
        "log_level = WARNING",
        "federated_configs =",
        `    ${root}/a`,
        "    ../b c",
      ].join("\n"),
      { configDir: path.join(root, "main"), env: {} },
    );
    assert.deepEqual(c.scheduler, {
      ignoreWarnings: new Set(["namespace", "other"]),
      setupScheduler: "../workflow.ts::setup_scheduler",
      jobStatusInterval: 0,
      callLease: 20,
      federatedConfigs: [path.join(root, "a"), path.join(root, "b c")],
      context: undefined,
      logLevel: "WARNING",
    });
  });

  test("context: a JSON object, on one line or several", () => {
    assert.deepEqual(
      config('[scheduler]\ncontext = {"genome": "hg38", "n": [1, 2]}\n').scheduler.context,
      {
        genome: "hg38",
        n: [1, 2],
      },
    );
    const multiLine = config(
      ["[scheduler]", "context = {", '    "a": {"b": true},', '    "c": null', "  }"].join("\n"),
    );
    assert.deepEqual(multiLine.scheduler.context, { a: { b: true }, c: null });
    assert.equal(config("[scheduler]\ncontext = None\n").scheduler.context, undefined);
  });

  test("context_file: a JSON file, relative to the configuration directory", () => {
    const root = tmp();
    write(root, { ".redun/ctx/context.json": '{"genome": "hg19", "threads": 4}\n' });
    const c = Config.fromString("[scheduler]\ncontext_file = ctx/context.json\n", {
      configDir: path.join(root, ".redun"),
      env: {},
    });
    assert.deepEqual(c.scheduler.context, { genome: "hg19", threads: 4 });
    // Each read is a copy: a caller cannot change what the next one sees.
    c.scheduler.context!.genome = "changed";
    assert.equal(c.scheduler.context!.genome, "hg19");
  });

  test("context and context_file together is an error naming the section and both keys", () => {
    configError(
      () => config('[scheduler]\ncontext = {"a": 1}\ncontext_file = ctx.json\n'),
      /^\[scheduler\] in \/project\/\.redun\/redun\.ini: give either context or context_file, not both$/,
    );
  });

  test("bad JSON is an error naming the key or the file, and the JSON error", () => {
    configError(
      () => config("[scheduler]\ncontext = {genome: hg38}\n"),
      /^\[scheduler\] in \/project\/\.redun\/redun\.ini context: expected a JSON object \(.*JSON.*\), got "\{genome: hg38\}"$/,
    );
    configError(
      () => config("[scheduler]\ncontext = [1, 2]\n"),
      /context: expected a JSON object, got "\[1, 2\]"$/,
    );
    const root = tmp();
    write(root, { "bad.json": '{"a": 1,}', "list.json": "[1]" });
    const at = (file: string) => () =>
      Config.fromString(`[scheduler]\ncontext_file = ${file}\n`, { configDir: root, env: {} });
    const badPath = path.join(root, "bad.json");
    const message = configError(
      at("bad.json"),
      new RegExp(
        `^\\[scheduler\\] in .*redun\\.ini context_file: ${badPath.replace(/[.]/g, "\\.")} is not valid JSON \\(.+\\)$`,
      ),
    );
    assert.match(message, /JSON|property name|token/i);
    configError(at("list.json"), /context_file: .*list\.json must hold a JSON object$/);
    configError(at("missing.json"), /context_file: cannot read .*missing\.json \(ENOENT/);
  });

  test("a bad job_status_interval names the section and key", () => {
    configError(
      () => config("[scheduler]\njob_status_interval = often\n"),
      /^\[scheduler\] in .*redun\.ini job_status_interval: expected a number, got "often"$/,
    );
  });

  test("defaults", () => {
    const scheduler = configOf("").scheduler;
    assert.equal(scheduler.jobStatusInterval, 20);
    assert.deepEqual([...scheduler.ignoreWarnings], []);
    assert.equal(scheduler.setupScheduler, undefined);
    assert.deepEqual(scheduler.federatedConfigs, []);
    assert.equal(configOf("[scheduler]\n").scheduler.jobStatusInterval, 20);
  });

  test("job_status_interval", () => {
    assert.equal(configOf("[scheduler]\njob_status_interval = 5\n").scheduler.jobStatusInterval, 5);
    throwsConfigError(
      () => configOf("[scheduler]\njob_status_interval = soon\n"),
      "[scheduler]",
      "job_status_interval",
      "soon",
    );
  });

  test("ignore_warnings is split on whitespace, also across lines", () => {
    const config = configOf(
      lines("[scheduler]", "ignore_warnings = namespace  other\tthird", "  fourth"),
    );
    assert.deepEqual([...config.scheduler.ignoreWarnings].sort(), [
      "fourth",
      "namespace",
      "other",
      "third",
    ]);
  });

  test("setup_scheduler is kept as written", () => {
    const config = configOf(
      lines("[scheduler]", "setup_scheduler = ../workflow.ts::setup_scheduler"),
    );
    assert.equal(config.scheduler.setupScheduler, "../workflow.ts::setup_scheduler");
    const module = configOf(lines("[scheduler]", "setup_scheduler = workflow_lib.utils::setup"));
    assert.equal(module.scheduler.setupScheduler, "workflow_lib.utils::setup");
  });

  test("federated_configs: one directory, relative to the configuration directory", () => {
    const root = tmp();
    const other = writeIni(path.join(root, "other", ".redun"), "");
    const dir = writeIni(
      path.join(root, "project", ".redun"),
      lines("[scheduler]", "federated_configs = ../../other/.redun"),
    );
    assert.deepEqual(Config.fromDir(dir, {}).scheduler.federatedConfigs, [other]);
  });

  test("federated_configs: several on continuation lines; absolute paths kept", () => {
    const root = tmp();
    const one = writeIni(path.join(root, "one"), "");
    const two = writeIni(path.join(root, "two"), "");
    const three = writeIni(path.join(root, "abs", "three"), "");
    const dir = writeIni(
      path.join(root, "project", ".redun"),
      lines(
        "[scheduler]",
        "federated_configs =",
        "    ../../one",
        "",
        "    ../../two",
        `    ${three}`,
      ),
    );
    assert.deepEqual(Config.fromDir(dir, {}).scheduler.federatedConfigs, [one, two, three]);
  });
});

describe("[limits]", () => {
  test("named non-negative whole amounts; DEFAULT keys are not limits", () => {
    const c = config("[DEFAULT]\nx = 1\n[limits]\ndb = 10\nweb_api = 5\nnone = 0\nplus = +2\n");
    assert.deepEqual(c.limits, { db: 10, web_api: 5, none: 0, plus: 2 });
  });

  for (const bad of ["-1", "1.5", "ten", "", "0x10", "1e3", "5 units"]) {
    test(`a bad limit (${JSON.stringify(bad)}) names [limits] and the key`, () => {
      configError(
        () => config(`[limits]\ndb = ${bad}\n`),
        new RegExp(
          `^\\[limits\\] in .*redun\\.ini db: expected a whole number of at least 0, got "${bad.replace(/[+.]/g, "\\$&")}"$`,
        ),
      );
    });
  }

  test("integers by name; keys are case-insensitive", () => {
    const config = configOf(lines("[limits]", "db = 10", "web_api = 5", "GPU = 0"));
    assert.deepEqual(config.limits, { db: 10, web_api: 5, gpu: 0 });
  });

  test("DEFAULT keys do not become limits", () => {
    const config = configOf(lines("[DEFAULT]", "shared = 3", "[limits]", "db = 1"));
    assert.deepEqual(config.limits, { db: 1 });
    assert.equal(config.get("limits", "shared"), "3", "still visible as a raw option");
  });
});

describe("[executors.NAME] sections", () => {
  test("type and raw options; imported and own sections listed", () => {
    const c = config(
      "[executors.a]\ntype = local\nMode = process\n[executors.b]\ntype = alias\ntarget = a\n",
    );
    assert.equal(c.executors.a!.type, "local");
    assert.deepEqual(c.executors.a!.options, { mode: "process" });
    assert.deepEqual(c.executorOptions("b")!.values, { target: "a" });
    assert.equal(c.executorOptions("nope"), undefined);
  });

  test("a missing type names the section and the key", () => {
    configError(
      () => config("[executors.x]\nmode = thread\n"),
      /^\[executors\.x\] in \/project\/\.redun\/redun\.ini: the option "type" is required/,
    );
  });

  test("[executor.NAME] is an error suggesting [executors.NAME]", () => {
    configError(
      () => config("[executor.batch]\ntype = local\n"),
      /^\[executor\.batch\] in .*: executor sections are named \[executors\.NAME\] .*rename it \[executors\.batch\]$/,
    );
  });

  test("executor types without a declared schema keep their options as written", () => {
    const c = config("[executors.x]\ntype = my_cloud\nzone = 3\n");
    assert.deepEqual(c.executorOptions("x"), { values: { zone: "3" }, warnings: [] });
  });

  test("a registered schema checks a user-defined executor type", () => {
    registerExecutorSchema("test_cloud", {
      zone: { type: "int", default: 1 },
      region: { type: "string", required: true },
    });
    try {
      const c = config("[executors.x]\ntype = test_cloud\nregion = eu\nextra = 1\n");
      const parsed = c.executorOptions("x")!;
      assert.deepEqual(parsed.values, { zone: 1, region: "eu" });
      assert.match(parsed.warnings[0]!, /^\[executors\.x\] in .*: unknown option "extra"/);
      configError(
        () => config("[executors.x]\ntype = test_cloud\n").executorOptions("x"),
        /^\[executors\.x\] in .*: the option "region" is required$/,
      );
    } finally {
      delete EXECUTOR_SCHEMAS.test_cloud;
    }
    assert.equal(executorSchema("test_cloud"), undefined);
    assert.throws(() => registerExecutorSchema("local", {}), /built in/);
    assert.equal(executorSchema("toString"), undefined, "not an Object.prototype key");
  });

  test("each section's type, own options, file and configuration directory", () => {
    const config = configOf(
      lines(
        "[executors.default]",
        "type = local",
        "max_workers = 4",
        "[executors.batch]",
        "type = aws_batch",
        "image = img",
        "queue = q",
        "s3_scratch = s3://b/",
      ),
    );
    assert.deepEqual(config.executors, {
      default: {
        type: "local",
        options: { max_workers: "4" },
        source: config.path,
        configDir: config.configDir,
      },
      batch: {
        type: "aws_batch",
        options: { image: "img", queue: "q", s3_scratch: "s3://b/" },
        source: config.path,
        configDir: config.configDir,
      },
    });
  });

  test("DEFAULT keys reach an executor only when its type declares them, without warnings", () => {
    const config = configOf(
      lines(
        "[DEFAULT]",
        "vcpus = 8",
        "max_workers = 3",
        "unrelated = x",
        "[executors.local]",
        "type = local",
        "[executors.batch]",
        "type = aws_batch",
        "image = img",
        "queue = q",
        "s3_scratch = s3://b/",
        "[executors.own]",
        "type = local",
        "max_workers = 9",
      ),
    );
    assert.deepEqual(config.executors.local!.options, { max_workers: "3" });
    assert.deepEqual(config.executors.batch!.options, {
      image: "img",
      queue: "q",
      s3_scratch: "s3://b/",
      vcpus: "8",
    });
    assert.deepEqual(config.executors.own!.options, { max_workers: "9" });
    assert.equal(config.executorOptions("local")!.values.max_workers, 3);
    assert.equal(config.executorOptions("batch")!.values.vcpus, 8);
    assert.deepEqual(config.executorOptions("batch")!.warnings, []);
    assert.deepEqual(config.warnings, []);
  });

  test("executorOptions: defaults filled, docker scratch relative to the config dir", () => {
    const config = configOf(
      lines("[executors.dock]", "type = docker", "image = img", "scratch = scratch/"),
    );
    const { values, warnings } = config.executorOptions("dock")!;
    assert.equal(values.scratch, path.join(config.configDir, "scratch"));
    assert.equal(values.vcpus, 1);
    assert.deepEqual(warnings, []);
    assert.equal(config.executorOptions("nope"), undefined);
  });

  test("executorOptions: ${NAME} from the environment, e.g. role = ${REDUN_ROLE}", () => {
    const config = configOf(
      lines(
        "[executors.batch]",
        "type = aws_batch",
        "image = img",
        "queue = q",
        "s3_scratch = s3://b/",
        "role = ${REDUN_ROLE}",
      ),
      { REDUN_ROLE: "arn:aws:iam::123:role/job" },
    );
    assert.equal(config.executorOptions("batch")!.values.role, "arn:aws:iam::123:role/job");
  });

  test("executorOptions: a bad value names the section, key and value", () => {
    const config = configOf(lines("[executors.default]", "type = local", "max_workers = many"));
    throwsConfigError(
      () => config.executorOptions("default"),
      "[executors.default]",
      "max_workers",
      "many",
    );
  });
});

/** Parses one executor section of `type` with `lines`. */
function executor(type: string, lines: string[] = []) {
  const c = config([`[executors.e]`, `type = ${type}`, ...lines].join("\n"));
  return c.executorOptions("e")!;
}

const TS_CODE = ["**/*.ts", "**/*.mts", "**/*.js", "**/*.mjs", "**/*.json"];

describe("executor option schemas and their defaults, through Config", () => {
  test("local", () => {
    assert.deepEqual(executor("local").values, {
      mode: "thread",
      max_workers: 20,
      start_method: "fork",
      timeout: undefined,
      max_memory: undefined,
    });
    assert.deepEqual(
      executor("local", ["mode = inline", "max_workers = 3", "start_method = spawn"]).values,
      {
        mode: "inline",
        max_workers: 3,
        start_method: "spawn",
        timeout: undefined,
        max_memory: undefined,
      },
    );
    configError(
      () => executor("local", ["mode = fiber"]),
      /^\[executors\.e\] in .* mode: expected one of thread, process, inline, got "fiber"$/,
    );
    configError(
      () => executor("local", ["max_workers = 0"]),
      /^\[executors\.e\] in .* max_workers: expected a whole number of at least 1, got "0"$/,
    );
    configError(
      () => executor("local", ["start_method = clone"]),
      /start_method: expected one of fork, spawn, forkserver, got "clone"/,
    );
  });

  test("alias", () => {
    assert.deepEqual(executor("alias", ["target = default"]).values, { target: "default" });
    configError(
      () => executor("alias"),
      /^\[executors\.e\] in .*: the option "target" is required$/,
    );
  });

  test("docker (scratch relative to the configuration directory)", () => {
    assert.deepEqual(executor("docker", ["image = img", "scratch = scratch"]).values, {
      image: "img",
      scratch: "/project/.redun/scratch",
      vcpus: 1,
      gpus: 0,
      memory: 4,
      interactive: false,
      network: undefined,
      code_package: true,
      code_includes: TS_CODE,
      code_excludes: undefined,
    });
    assert.equal(executor("docker", ["image = i", "scratch = /abs/s"]).values.scratch, "/abs/s");
    configError(
      () => executor("docker", ["scratch = s"]),
      /^\[executors\.e\] in .*: the option "image" is required$/,
    );
    configError(
      () => executor("docker", ["image = i"]),
      /^\[executors\.e\] in .*: the option "scratch" is required$/,
    );
  });

  const BATCH = ["image = img", "queue = q", "s3_scratch = s3://b/p/"];
  test("aws_batch", () => {
    assert.deepEqual(executor("aws_batch", BATCH).values, {
      image: "img",
      queue: "q",
      s3_scratch: "s3://b/p/",
      aws_region: undefined,
      role: undefined,
      vcpus: 1,
      gpus: 0,
      memory: 4,
      retries: 1,
      job_name_prefix: "batch-job",
      code_package: true,
      code_includes: TS_CODE,
      code_excludes: undefined,
      debug: false,
      job_monitor_interval: 5,
      min_array_size: 5,
      max_array_size: 1000,
      job_stale_time: 3,
      timeout: undefined,
      privileged: false,
      autocreate_job_def: true,
      job_def_name: undefined,
      batch_tags: undefined,
      default_batch_tags: true,
      num_nodes: undefined,
      share_id: undefined,
      scheduling_priority_override: undefined,
    });
    for (const key of ["image", "queue", "s3_scratch"]) {
      configError(
        () =>
          executor(
            "aws_batch",
            BATCH.filter((l) => !l.startsWith(key)),
          ),
        new RegExp(`^\\[executors\\.e\\] in .*: the option "${key}" is required$`),
      );
    }
  });

  test("aws_batch: typed values, None, tags, code patterns", () => {
    const { values } = executor("aws_batch", [
      ...BATCH,
      "role = None",
      "memory = 0.5",
      "gpus = 2",
      "timeout = 3600",
      "privileged = TRUE",
      'batch_tags = {"project": "acme", "user": "alice"}',
      `code_includes = src/**/*.ts "my dir/*.json" 'a b'`,
      "code_excludes = node_modules/**",
      "num_nodes = 3",
    ]);
    assert.equal(values.role, null, "None: no job role, unlike unset (the account's default)");
    assert.equal(values.memory, 0.5);
    assert.equal(values.gpus, 2);
    assert.equal(values.timeout, 3600);
    assert.equal(values.privileged, true);
    assert.deepEqual(values.batch_tags, { project: "acme", user: "alice" });
    assert.deepEqual(values.code_includes, ["src/**/*.ts", "my dir/*.json", "a b"]);
    assert.deepEqual(values.code_excludes, ["node_modules/**"]);
    assert.equal(values.num_nodes, 3);
  });

  test("aws_batch: the deprecated autocreate_job still works, with a warning", () => {
    const parsed = executor("aws_batch", [...BATCH, "autocreate_job = false", "job_def_name = jd"]);
    assert.equal(parsed.values.autocreate_job_def, false);
    assert.ok(!("autocreate_job" in parsed.values));
    assert.deepEqual(parsed.warnings, [
      '[executors.e] in /project/.redun/redun.ini: "autocreate_job" is deprecated; use "autocreate_job_def"',
    ]);
    const both = executor("aws_batch", [
      ...BATCH,
      "autocreate_job = false",
      "autocreate_job_def = true",
    ]);
    assert.equal(both.values.autocreate_job_def, true, "the current name wins");
    assert.match(
      both.warnings[0]!,
      /"autocreate_job" is ignored because "autocreate_job_def" is also given/,
    );
  });

  test("aws_batch: cross-option and value checks name the section and key", () => {
    configError(
      () => executor("aws_batch", [...BATCH, "autocreate_job_def = false"]),
      /^\[executors\.e\] in .* autocreate_job_def: when false, job_def_name must name the job definition to use, got false$/,
    );
    configError(
      () => executor("aws_batch", [...BATCH, "min_array_size = 10", "max_array_size = 5"]),
      /^\[executors\.e\] in .* max_array_size: must be at least min_array_size \(10\), got 5$/,
    );
    configError(
      () => executor("aws_batch", [...BATCH, "batch_tags = [1, 2]"]),
      /^\[executors\.e\] in .* batch_tags: expected a JSON object, got "\[1, 2\]"$/,
    );
    configError(
      () => executor("aws_batch", [...BATCH, "batch_tags = {project: acme}"]),
      /^\[executors\.e\] in .* batch_tags: expected a JSON object \(.*\), got "\{project: acme\}"$/,
    );
    configError(
      () => executor("aws_batch", [...BATCH, 'batch_tags = {"n": 1}']),
      /batch_tags: expected a JSON object of string values, got \{"n":1\}/,
    );
    configError(
      () => executor("aws_batch", [...BATCH, "vcpus = 1.5"]),
      /\[executors\.e\] in .* vcpus: expected a whole number, got "1\.5"/,
    );
    configError(
      () => executor("aws_batch", [...BATCH, "memory = lots"]),
      /\[executors\.e\] in .* memory: expected a number, got "lots"/,
    );
    assert.equal(
      executor("aws_batch", [...BATCH, "vcpus = None"]).values.vcpus,
      1,
      "None: default",
    );
  });

  test("aws_glue", () => {
    assert.deepEqual(executor("aws_glue", ["s3_scratch = s3://b/p/"]).values, {
      s3_scratch: "s3://b/p/",
      workers: 10,
      worker_type: "G.1X",
      aws_region: undefined,
      role: undefined,
      glue_job_prefix: "REDUN",
      spark_history_dir: "s3://b/p/glue/spark_history",
      job_monitor_interval: 10,
      job_retry_interval: 60,
      timeout: 2880,
      node_runtime: undefined,
      glue_version: "5.0",
      code_package: true,
      code_includes: TS_CODE,
      code_excludes: undefined,
    });
    const set = executor("aws_glue", [
      "s3_scratch = s3://b",
      "spark_history_dir = s3://h/",
      "worker_type = G.2X",
    ]);
    assert.equal(set.values.spark_history_dir, "s3://h/");
    assert.equal(set.values.worker_type, "G.2X");
    configError(
      () => executor("aws_glue"),
      /^\[executors\.e\] in .*: the option "s3_scratch" is required$/,
    );
    configError(
      () => executor("aws_glue", ["s3_scratch = s3://b", "worker_type = G.9X"]),
      /worker_type: expected one of Standard, G\.1X, G\.2X, got "G\.9X"/,
    );
  });

  test("k8s", () => {
    assert.deepEqual(executor("k8s", ["image = img", "scratch = s3://b/k/"]).values, {
      image: "img",
      scratch: "s3://b/k/",
      namespace: "default",
      secret_name: undefined,
      import_aws_secrets: true,
      secret_env_vars: [],
      vcpus: 1,
      memory: 4,
      retries: 1,
      job_name_prefix: "batch-job",
      service_account_name: "default",
      annotations: undefined,
      k8s_labels: undefined,
      default_k8s_labels: true,
      code_package: true,
      code_includes: TS_CODE,
      code_excludes: undefined,
      job_monitor_interval: 5,
      min_array_size: 5,
      max_array_size: 1000,
      job_stale_time: 3,
      share_id: undefined,
      scheduling_priority_override: undefined,
      kubeconfig: undefined,
      context: undefined,
      image_pull_policy: undefined,
      host_network: false,
    });
    const set = executor("k8s", [
      "image = i",
      "scratch = s",
      "secret_env_vars = A B",
      'k8s_labels = {"team": "x"}',
      "gpus = 1",
    ]);
    assert.deepEqual(set.values.secret_env_vars, ["A", "B"]);
    assert.deepEqual(set.values.k8s_labels, { team: "x" });
    assert.match(set.warnings[0]!, /unknown option "gpus"/, "k8s declares no gpus");
    configError(() => executor("k8s", ["scratch = s"]), /the option "image" is required/);
    configError(() => executor("k8s", ["image = i"]), /the option "scratch" is required/);
  });
});

describe("executor option schemas and their defaults, through parseOptions", () => {
  const where = "[executors.x] in /p/.redun/redun.ini";
  const parse = (type: string, options: Record<string, string>) => {
    const schema = EXECUTOR_SCHEMAS[type];
    assert.ok(schema, `no schema for ${type}`);
    return parseOptions(schema, options, where);
  };
  const BATCH = { image: "img", queue: "q", s3_scratch: "s3://bucket/redun/" };

  test("local", () => {
    const { values, warnings } = parse("local", {});
    assert.deepEqual(values, {
      mode: "thread",
      max_workers: 20,
      start_method: "fork",
      timeout: undefined,
      max_memory: undefined,
    });
    assert.deepEqual(warnings, []);
    assert.equal(parse("local", { mode: "process" }).values.mode, "process");
    assert.equal(parse("local", { start_method: "spawn" }).values.start_method, "spawn");
  });

  test("docker", () => {
    const { values } = parse("docker", { image: "img", scratch: "/abs/scratch" });
    assert.equal(values.image, "img");
    assert.equal(values.scratch, "/abs/scratch");
    assert.equal(values.vcpus, 1);
    assert.equal(values.gpus, 0);
    assert.equal(values.memory, 4);
    assert.equal(values.interactive, false);
  });

  test("aws_batch", () => {
    const { values, warnings } = parse("aws_batch", BATCH);
    assert.deepEqual(warnings, []);
    const expected: Record<string, unknown> = {
      ...BATCH,
      aws_region: undefined,
      role: undefined,
      vcpus: 1,
      gpus: 0,
      memory: 4,
      retries: 1,
      job_name_prefix: "batch-job",
      code_package: true,
      code_excludes: undefined,
      debug: false,
      job_monitor_interval: 5,
      min_array_size: 5,
      max_array_size: 1000,
      job_stale_time: 3,
      timeout: undefined,
      privileged: false,
      autocreate_job_def: true,
      job_def_name: undefined,
      batch_tags: undefined,
      default_batch_tags: true,
      num_nodes: undefined,
    };
    for (const [key, value] of Object.entries(expected)) {
      assert.deepEqual(values[key], value, key);
    }
  });

  test("aws_batch: typed values", () => {
    const { values } = parse("aws_batch", {
      ...BATCH,
      vcpus: "4",
      gpus: "1",
      memory: "7.5",
      retries: "3",
      job_name_prefix: "acme",
      code_package: "False",
      code_includes: '**/*.ts "my dir/*.json"',
      code_excludes: "node_modules/**",
      debug: "yes",
      job_monitor_interval: "2.5",
      min_array_size: "0",
      max_array_size: "10",
      job_stale_time: "0.5",
      timeout: "3600",
      privileged: "true",
      job_def_name: "my-def",
      batch_tags: '{"project": "acme", "user": "alice"}',
      default_batch_tags: "off",
      num_nodes: "3",
      aws_region: "us-west-2",
    });
    assert.equal(values.vcpus, 4);
    assert.equal(values.gpus, 1);
    assert.equal(values.memory, 7.5);
    assert.equal(values.retries, 3);
    assert.equal(values.job_name_prefix, "acme");
    assert.equal(values.code_package, false);
    assert.deepEqual(values.code_includes, ["**/*.ts", "my dir/*.json"]);
    assert.deepEqual(values.code_excludes, ["node_modules/**"]);
    assert.equal(values.debug, true);
    assert.equal(values.job_monitor_interval, 2.5);
    assert.equal(values.min_array_size, 0);
    assert.equal(values.max_array_size, 10);
    assert.equal(values.job_stale_time, 0.5);
    assert.equal(values.timeout, 3600);
    assert.equal(values.privileged, true);
    assert.equal(values.job_def_name, "my-def");
    assert.deepEqual(values.batch_tags, { project: "acme", user: "alice" });
    assert.equal(values.default_batch_tags, false);
    assert.equal(values.num_nodes, 3);
    assert.equal(values.aws_region, "us-west-2");
  });

  test("aws_batch: role = None is no role (null), unlike an unset role (undefined)", () => {
    const none = parse("aws_batch", { ...BATCH, role: "None" }).values.role;
    assert.equal(none, null);
    assert.equal(parse("aws_batch", BATCH).values.role, undefined);
    assert.equal(parse("aws_batch", { ...BATCH, role: "arn:r" }).values.role, "arn:r");
  });

  test("aws_batch: autocreate_job_def, and the deprecated autocreate_job", () => {
    const current = parse("aws_batch", {
      ...BATCH,
      autocreate_job_def: "false",
      job_def_name: "d",
    });
    assert.equal(current.values.autocreate_job_def, false);
    assert.deepEqual(current.warnings, []);

    const old = parse("aws_batch", { ...BATCH, autocreate_job: "false", job_def_name: "d" });
    assert.equal(old.values.autocreate_job_def, false);
    assert.equal(old.warnings.length, 1);
    assert.match(old.warnings[0]!, /autocreate_job.*deprecated/);
    assert.equal("autocreate_job" in old.values, false);

    const both = parse("aws_batch", {
      ...BATCH,
      autocreate_job_def: "true",
      autocreate_job: "false",
    });
    assert.equal(both.values.autocreate_job_def, true);
    assert.equal(both.warnings.length, 1);

    // Without autocreation the job definition must be named.
    throwsConfigError(
      () => parse("aws_batch", { ...BATCH, autocreate_job_def: "false" }),
      "autocreate_job_def",
      "job_def_name",
    );
  });

  test("aws_glue", () => {
    const { values } = parse("aws_glue", { s3_scratch: "s3://bucket/redun/" });
    assert.equal(values.glue_job_prefix, "REDUN");
    assert.equal(values.job_monitor_interval, 10);
    assert.equal(values.job_retry_interval, 60);
    assert.equal(values.timeout, 2880);
    assert.equal(values.code_package, true);
    assert.equal(values.spark_history_dir, "s3://bucket/redun/glue/spark_history");
    assert.equal(values.role, undefined);
    assert.equal(values.aws_region, undefined);
    const noSlash = parse("aws_glue", { s3_scratch: "s3://bucket/redun" }).values;
    assert.equal(noSlash.spark_history_dir, "s3://bucket/redun/glue/spark_history");
    const custom = parse("aws_glue", {
      s3_scratch: "s3://b/",
      spark_history_dir: "s3://elsewhere/",
      worker_type: "G.2X",
      workers: "4",
    }).values;
    assert.equal(custom.spark_history_dir, "s3://elsewhere/");
    assert.equal(custom.worker_type, "G.2X");
    assert.equal(custom.workers, 4);
  });

  test("k8s", () => {
    const { values } = parse("k8s", { image: "img", scratch: "s3://bucket/redun/" });
    const expected: Record<string, unknown> = {
      namespace: "default",
      secret_name: undefined,
      import_aws_secrets: true,
      service_account_name: "default",
      default_k8s_labels: true,
      job_monitor_interval: 5,
      vcpus: 1,
      memory: 4,
      retries: 1,
      job_name_prefix: "batch-job",
      code_package: true,
      min_array_size: 5,
      max_array_size: 1000,
      job_stale_time: 3,
      annotations: undefined,
      k8s_labels: undefined,
    };
    for (const [key, value] of Object.entries(expected)) {
      assert.deepEqual(values[key], value, key);
    }
    const custom = parse("k8s", {
      image: "img",
      scratch: "s3://b/",
      secret_env_vars: "AWS_PROFILE  OTHER_VAR",
      annotations: '{"a": "1"}',
      k8s_labels: '{"team": "x"}',
    }).values;
    assert.deepEqual(custom.secret_env_vars, ["AWS_PROFILE", "OTHER_VAR"]);
    assert.deepEqual(custom.annotations, { a: "1" });
    assert.deepEqual(custom.k8s_labels, { team: "x" });
  });

  const REQUIRED: [type: string, option: string, others: Record<string, string>][] = [
    ["alias", "target", {}],
    ["docker", "image", { scratch: "s" }],
    ["docker", "scratch", { image: "i" }],
    ["aws_batch", "image", { queue: "q", s3_scratch: "s3://b/" }],
    ["aws_batch", "queue", { image: "i", s3_scratch: "s3://b/" }],
    ["aws_batch", "s3_scratch", { image: "i", queue: "q" }],
    ["aws_glue", "s3_scratch", {}],
    ["k8s", "image", { scratch: "s3://b/" }],
    ["k8s", "scratch", { image: "i" }],
  ];
  for (const [type, option, others] of REQUIRED) {
    test(`${type}: a missing ${option} names the section and option`, () => {
      throwsConfigError(() => parse(type, others), "[executors.x]", option);
    });
  }

  test("a required option set to None is an error too", () => {
    throwsConfigError(
      () => parse("aws_batch", { ...BATCH, queue: "None" }),
      "[executors.x]",
      "queue",
    );
  });

  const MALFORMED: [type: string, options: Record<string, string>, key: string, value: string][] = [
    ["aws_batch", { ...BATCH, debug: "maybe" }, "debug", "maybe"],
    ["aws_batch", { ...BATCH, vcpus: "x" }, "vcpus", "x"],
    ["aws_batch", { ...BATCH, vcpus: "1.5" }, "vcpus", "1.5"],
    ["aws_batch", { ...BATCH, memory: "lots" }, "memory", "lots"],
    ["aws_batch", { ...BATCH, batch_tags: "{project: acme}" }, "batch_tags", "{project: acme}"],
    ["aws_batch", { ...BATCH, batch_tags: "[1, 2]" }, "batch_tags", "[1, 2]"],
    ["aws_batch", { ...BATCH, batch_tags: '{"n": 1}' }, "batch_tags", '{"n":1}'],
    ["aws_batch", { ...BATCH, code_includes: '"unclosed' }, "code_includes", '"unclosed'],
    ["aws_batch", { ...BATCH, min_array_size: "10", max_array_size: "5" }, "max_array_size", "5"],
    ["local", { mode: "fiber" }, "mode", "fiber"],
    ["local", { start_method: "clone" }, "start_method", "clone"],
    ["local", { max_workers: "0" }, "max_workers", "0"],
    ["aws_glue", { s3_scratch: "s3://b/", worker_type: "G.9X" }, "worker_type", "G.9X"],
    ["k8s", { image: "i", scratch: "s", import_aws_secrets: "sure" }, "import_aws_secrets", "sure"],
    ["k8s", { image: "i", scratch: "s", annotations: "not json" }, "annotations", "not json"],
    ["docker", { image: "i", scratch: "s", interactive: "2" }, "interactive", "2"],
  ];
  for (const [type, options, key, value] of MALFORMED) {
    test(`${type}: ${key} = ${value} names the key and the value`, () => {
      throwsConfigError(() => parse(type, options), "[executors.x]", key, value);
    });
  }

  test("unknown keys are warnings, not values", () => {
    const { values, warnings } = parse("local", { colour: "blue", max_workers: "2" });
    assert.equal(values.max_workers, 2);
    assert.equal("colour" in values, false);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /\[executors\.x\]/);
    assert.match(warnings[0]!, /colour/);
  });

  test("unknown keys in a file are warnings from executorOptions", () => {
    const config = configOf(lines("[executors.default]", "type = local", "max_wrokers = 2"));
    const parsed = config.executorOptions("default")!;
    assert.equal(parsed.values.max_workers, 20);
    assert.equal(parsed.warnings.length, 1);
    assert.match(parsed.warnings[0]!, /max_wrokers/);
  });
});

describe("parseOptions", () => {
  const schema = {
    flag: { type: "bool", default: false },
    count: { type: "int", default: 3, min: 0 },
    ratio: { type: "float", default: undefined },
    name: { type: "string", default: "x" },
    items: { type: "lines", default: [] },
    file: { type: "string", default: undefined, isPath: true },
  } satisfies OptionSchema;
  const where = "[t] in /x/.redun/redun.ini";

  test("configparser's boolean words, in any case", () => {
    for (const word of ["1", "yes", "TRUE", "On", "true"]) {
      assert.equal(parseOptions(schema, { flag: word }, where).values.flag, true, word);
    }
    for (const word of ["0", "no", "False", "OFF"]) {
      assert.equal(parseOptions(schema, { flag: word }, where).values.flag, false, word);
    }
    configError(
      () => parseOptions(schema, { flag: "y" }, where),
      /^\[t\] in \/x\/\.redun\/redun\.ini flag: expected true or false \(also yes\/no, on\/off, 1\/0\), got "y"$/,
    );
  });

  test("numbers as Python's int() and float() read them", () => {
    assert.equal(parseOptions(schema, { count: " +7 " }, where).values.count, 7);
    assert.equal(parseOptions(schema, { ratio: "1e-3" }, where).values.ratio, 0.001);
    assert.equal(parseOptions(schema, { ratio: ".5" }, where).values.ratio, 0.5);
    for (const bad of ["0x10", "1e3", "1.0", "", "12abc"]) {
      configError(
        () => parseOptions(schema, { count: bad }, where),
        /count: expected a whole number/,
      );
    }
    for (const bad of ["inf", "nan", "1,5", "0x1"]) {
      configError(() => parseOptions(schema, { ratio: bad }, where), /ratio: expected a number/);
    }
  });

  test("lines, None, paths, and values from code", () => {
    const { values } = parseOptions(
      schema,
      { items: "\n a \n\n b c\n", ratio: "None", file: "f.txt" },
      where,
      {
        baseDir: "/base",
      },
    );
    assert.deepEqual(values.items, ["a", "b c"]);
    assert.equal(values.ratio, null);
    assert.equal(values.file, "/base/f.txt");
    assert.equal(
      parseOptions(schema, { count: "None" }, where).values.count,
      3,
      "None: the default",
    );
    assert.deepEqual(parseOptions(schema, { count: 5, flag: true, items: ["z"] }, where).values, {
      flag: true,
      count: 5,
      ratio: undefined,
      name: "x",
      items: ["z"],
      file: undefined,
    });
    configError(
      () => parseOptions({ r: { type: "string", required: true } }, { r: "None" }, where),
      /^\[t\] in .* r: expected a value \(the option is required\), got "None"$/,
    );
  });

  test("unknown keys are returned as warnings, except inherited ones", () => {
    const { warnings } = parseOptions(schema, { nope: "1", shared: "2" }, where, {
      inherited: new Set(["shared"]),
    });
    assert.deepEqual(warnings, [
      `${where}: unknown option "nope" (known: flag, count, ratio, name, items, file)`,
    ]);
  });
});

describe("shellSplit agrees with Python's shlex.split", () => {
  const inputs = [
    "**/*.ts **/*.json",
    "  spaced\tout\n words  ",
    `"double quoted" 'single quoted'`,
    `mid"dle quo"te`,
    `'' "" empty`,
    `back\\ slash\\ escaped`,
    `"in double: \\" \\\\ \\n \\$"`,
    `'in single: \\" \\\\'`,
    `a\\\\b c\\'d`,
    `# not a comment`,
    "",
  ];
  test("on tricky inputs", () => {
    const result = spawnSync(
      "python3",
      [
        "-c",
        "import json, shlex, sys; print(json.dumps([shlex.split(s) for s in json.load(sys.stdin)]))",
      ],
      { input: JSON.stringify(inputs), encoding: "utf8" },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.deepEqual(inputs.map(shellSplit), JSON.parse(result.stdout));
  });
  test("unclosed quotes and a final backslash are errors (as in Python)", () => {
    assert.throws(() => shellSplit(`"open`), /no closing " quote/);
    assert.throws(() => shellSplit(`'open`), /no closing ' quote/);
    assert.throws(() => shellSplit(`trailing\\`), /final backslash/);
    configError(
      () =>
        executor("aws_batch", ["image = i", "queue = q", "s3_scratch = s", `code_includes = "a b`]),
      /^\[executors\.e\] in .* code_includes: expected a whitespace-separated list \(no closing " quote\), got "\\"a b"$/,
    );
  });
});

describe("federated_configs", () => {
  /** A main config importing `imports` (directory names under root). */
  function setup(files: Record<string, string>, imports: string[]) {
    const root = tmp();
    write(root, files);
    write(root, {
      "main/.redun/redun.ini": [
        "[scheduler]",
        "federated_configs =",
        ...imports.map((d) => `    ../../${d}`),
        "[executors.default]",
        "type = local",
      ].join("\n"),
    });
    return root;
  }
  const REMOTE = [
    "[backend]",
    "db_uri = mysql://ignored/because/only/executors/are/read",
    "[limits]",
    "ignored = -5",
    "[scheduler]",
    "federated_configs = ../nonexistent",
    "[executors.remote]",
    "type = docker",
    "image = ${image_name}",
    "scratch = scratch",
    "image_name = img",
    "[federated_tasks.entry]",
    "namespace = acme",
    "task_name = main",
    "load_module = acme.workflow",
    "executor = remote",
    "config_dir = /opt/acme/.redun",
    "task_signature = main(x: number)",
    "description = The entrypoint.",
    "memory = 8",
    "cache = false",
  ].join("\n");

  test("imports only executors and federated tasks", () => {
    const root = setup({ "fed/redun.ini": REMOTE }, ["fed"]);
    const c = loadConfig({ configDir: path.join(root, "main/.redun"), env: {} });
    assert.deepEqual(Object.keys(c.executors), ["default", "remote"]);
    assert.deepEqual(c.executors.remote, {
      type: "docker",
      options: { image: "img", scratch: "scratch", image_name: "img" },
      source: path.join(root, "fed/redun.ini"),
      configDir: path.join(root, "fed"),
    });
    // Relative paths in an imported executor are relative to its own configuration.
    assert.equal(c.executorOptions("remote")!.values.scratch, path.join(root, "fed/scratch"));
    assert.deepEqual(c.federatedTasks, {
      entry: {
        namespace: "acme",
        taskName: "main",
        loadModule: "acme.workflow",
        executor: "remote",
        configDir: "/opt/acme/.redun",
        taskSignature: "main(x: number)",
        description: "The entrypoint.",
        extra: { memory: "8", cache: "false" },
        source: path.join(root, "fed/redun.ini"),
      },
    });
    assert.deepEqual(c.limits, {}, "other sections are not imported");
    assert.equal(c.backend.dialect, "sqlite");
    assert.deepEqual(c.warnings, []);
  });

  test("the same directory listed twice is imported once", () => {
    const root = setup({ "fed/redun.ini": REMOTE }, ["fed", "fed/"]);
    const c = loadConfig({ configDir: path.join(root, "main/.redun"), env: {} });
    assert.deepEqual(Object.keys(c.executors), ["default", "remote"]);
  });

  test("an executor defined here and there is an error naming both files", () => {
    const root = setup({ "fed/redun.ini": "[executors.default]\ntype = local\n" }, ["fed"]);
    configError(
      () => loadConfig({ configDir: path.join(root, "main/.redun"), env: {} }),
      new RegExp(
        `^executor "default" is defined twice: in ${path.join(root, "main/.redun/redun.ini")} and in ${path.join(root, "fed/redun.ini")} \\(federated_configs\\)$`,
      ),
    );
  });

  test("a federated task defined in two imports is an error naming both files", () => {
    const task =
      "[federated_tasks.t]\nnamespace = n\ntask_name = t\nload_module = m\nexecutor = default\nconfig_dir = d\n";
    const root = setup({ "one/redun.ini": task, "two/redun.ini": task }, ["one", "two"]);
    configError(
      () => loadConfig({ configDir: path.join(root, "main/.redun"), env: {} }),
      new RegExp(
        `^federated task "t" is defined twice: in ${path.join(root, "one/redun.ini")} and in ${path.join(root, "two/redun.ini")}`,
      ),
    );
  });

  test("a directory without redun.ini, or a remote one, names [scheduler] federated_configs", () => {
    const root = setup({}, ["missing"]);
    configError(
      () => loadConfig({ configDir: path.join(root, "main/.redun"), env: {} }),
      /^\[scheduler\] in .*main\/\.redun\/redun\.ini federated_configs: .*missing has no redun\.ini$/,
    );
    configError(
      () => config("[scheduler]\nfederated_configs = s3://bucket/.redun\n"),
      /^\[scheduler\] in .* federated_configs: s3:\/\/bucket\/\.redun: only local configuration directories/,
    );
  });

  test("errors inside an imported file name that file", () => {
    const root = setup({ "fed/redun.ini": "[executors.x]\nmode = thread\n" }, ["fed"]);
    configError(
      () => loadConfig({ configDir: path.join(root, "main/.redun"), env: {} }),
      new RegExp(
        `^\\[executors\\.x\\] in ${path.join(root, "fed/redun.ini")}: the option "type" is required`,
      ),
    );
  });
});

describe("federated_configs imports, from the fixtures", () => {
  /** <root>/project/.redun importing <root>/published/.redun (and more, if given). */
  function project(scheduler: string[], ...body: string[]) {
    const root = tmp();
    const published = installFixture("published", path.join(root, "published", ".redun"));
    const published2 = installFixture("published2", path.join(root, "published2", ".redun"));
    const dir = writeIni(
      path.join(root, "project", ".redun"),
      lines("[scheduler]", ...scheduler, ...body),
    );
    return { root, dir, published, published2 };
  }

  test("executors and federated tasks are imported; other sections are ignored", () => {
    const { dir, published } = project(
      ["federated_configs = ../../published/.redun"],
      "[backend]",
      "db_uri = sqlite:///mine.db",
      "[limits]",
      "db = 2",
      "[executors.default]",
      "type = local",
    );
    const config = Config.fromDir(dir, {});
    const publishedFile = path.join(published, "redun.ini");

    assert.deepEqual(Object.keys(config.executors).sort(), ["default", "headnode"]);
    assert.deepEqual(config.executors.headnode, {
      type: "docker",
      options: { image: "published-image", scratch: "scratch", memory: "16" },
      source: publishedFile,
      configDir: published,
    });
    // Relative paths of an imported executor are relative to its own directory.
    const headnode = config.executorOptions("headnode")!.values;
    assert.equal(headnode.scratch, path.join(published, "scratch"));
    assert.equal(headnode.memory, 16);

    assert.deepEqual(config.federatedTasks.published_entry, {
      namespace: "remote_namespace",
      taskName: "published_task",
      loadModule: "remote_repo.workflow",
      executor: "headnode",
      configDir: "remote_repo/.redun",
      taskSignature: "published_task(x: int, y: int)",
      description: "A published task.",
      extra: { memory: "8", vcpus: "2" },
      source: publishedFile,
    });

    // The published [backend], [limits] and [scheduler] do not count.
    assert.equal(config.backend.dialect, "sqlite");
    assert.equal(config.backend.sqlitePath, path.join(dir, "mine.db"));
    assert.deepEqual(config.limits, { db: 2 });
    assert.equal(config.scheduler.jobStatusInterval, 20);
    assert.equal(config.sections().includes("executors.headnode"), false);
    assert.deepEqual(config.warnings, []);
  });

  test("several imports on continuation lines", () => {
    const { dir } = project([
      "federated_configs =",
      "    ../../published/.redun",
      "    ../../published2/.redun",
    ]);
    const config = Config.fromDir(dir, {});
    assert.deepEqual(Object.keys(config.executors).sort(), ["headnode", "remote_batch"]);
    assert.deepEqual(Object.keys(config.federatedTasks).sort(), [
      "published_entry",
      "second_entry",
    ]);
  });

  test("an imported file's unusable other sections do not matter, even unresolvable ones", () => {
    const root = tmp();
    writeIni(
      path.join(root, "published", ".redun"),
      lines("[backend]", "db_uri = ${UNSET_VARIABLE}", "[executors.remote]", "type = local"),
    );
    const dir = writeIni(
      path.join(root, "project", ".redun"),
      lines("[scheduler]", "federated_configs = ../../published/.redun"),
    );
    assert.equal(Config.fromDir(dir, {}).executors.remote?.type, "local");
  });

  test("an executor defined here and in an import is an error naming both files", () => {
    const { dir, published } = project(
      ["federated_configs = ../../published/.redun"],
      "[executors.headnode]",
      "type = local",
    );
    throwsConfigError(
      () => Config.fromDir(dir, {}),
      '"headnode"',
      path.join(dir, "redun.ini"),
      path.join(published, "redun.ini"),
    );
  });

  test("an executor defined in two imports is an error naming both files", () => {
    const { root, dir, published } = project([
      "federated_configs =",
      "    ../../published/.redun",
      "    ../../clash/.redun",
    ]);
    const clash = writeIni(
      path.join(root, "clash", ".redun"),
      lines("[executors.headnode]", "type = local"),
    );
    throwsConfigError(
      () => Config.fromDir(dir, {}),
      '"headnode"',
      path.join(published, "redun.ini"),
      path.join(clash, "redun.ini"),
    );
  });

  test("a federated task defined here and in an import is an error naming both files", () => {
    const { dir, published } = project(
      ["federated_configs = ../../published/.redun"],
      "[federated_tasks.published_entry]",
      "namespace = a",
      "task_name = b",
      "load_module = c",
      "executor = headnode",
      "config_dir = d",
    );
    throwsConfigError(
      () => Config.fromDir(dir, {}),
      '"published_entry"',
      path.join(dir, "redun.ini"),
      path.join(published, "redun.ini"),
    );
  });

  test("a directory without redun.ini is an error naming federated_configs", () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, "empty", ".redun"), { recursive: true });
    for (const target of ["../../empty/.redun", "../../missing/.redun"]) {
      const dir = writeIni(
        path.join(root, "project", ".redun"),
        lines("[scheduler]", `federated_configs = ${target}`),
      );
      throwsConfigError(
        () => Config.fromDir(dir, {}),
        "[scheduler]",
        "federated_configs",
        path.resolve(dir, target),
      );
    }
  });

  test("errors inside an imported executor section name the imported file", () => {
    const root = tmp();
    const other = writeIni(path.join(root, "other"), lines("[executors.x]", "max_workers = 2"));
    const dir = writeIni(
      path.join(root, "project", ".redun"),
      lines("[scheduler]", "federated_configs = ../../other"),
    );
    throwsConfigError(
      () => Config.fromDir(dir, {}),
      path.join(other, "redun.ini"),
      "[executors.x]",
      '"type"',
    );
  });
});

describe("[federated_tasks.NAME]", () => {
  const TASK = [
    "namespace = n",
    "task_name = t",
    "load_module = m",
    "executor = default",
    "config_dir = d",
  ];

  for (const key of ["namespace", "task_name", "load_module", "executor", "config_dir"]) {
    test(`a missing ${key} names the section and key`, () => {
      configError(
        () =>
          config(["[federated_tasks.ft]", ...TASK.filter((l) => !l.startsWith(key))].join("\n")),
        new RegExp(
          `^\\[federated_tasks\\.ft\\] in /project/\\.redun/redun\\.ini: the option "${key}" is required$`,
        ),
      );
    });
  }

  test("optional keys, and a warning for an executor that is not defined", () => {
    const c = config(["[federated_tasks.ft]", ...TASK].join("\n"));
    const task = c.federatedTasks.ft!;
    assert.equal(task.taskSignature, undefined);
    assert.equal(task.description, undefined);
    assert.deepEqual(task.extra, {});
    // "default" and "process" are built in.
    assert.deepEqual(c.warnings, []);
    const on = (executor: string) =>
      config(
        [
          "[federated_tasks.ft]",
          ...TASK.filter((l) => !l.startsWith("executor")),
          `executor = ${executor}`,
        ].join("\n"),
      );
    assert.deepEqual(on("process").warnings, []);
    const nowhere = on("nowhere");
    assert.deepEqual(nowhere.warnings, [
      '[federated_tasks.ft] in /project/.redun/redun.ini: executor "nowhere" is not defined',
    ]);
  });
});

describe("[federated_tasks.NAME] sections, every key", () => {
  const TASK = [
    "namespace = acme",
    "task_name = main",
    "load_module = workflow",
    "executor = batch",
    "config_dir = remote/.redun",
  ];
  const BATCH = [
    "[executors.batch]",
    "type = aws_batch",
    "image = i",
    "queue = q",
    "s3_scratch = s3://b/",
  ];

  test("required keys, optional ones, and every other key in extra", () => {
    const config = configOf(
      lines(
        ...BATCH,
        "[federated_tasks.entry]",
        ...TASK,
        "task_signature = main(x: int)",
        "description = The entry point.",
        "memory = 8",
        "image = custom",
      ),
    );
    assert.deepEqual(config.federatedTasks, {
      entry: {
        namespace: "acme",
        taskName: "main",
        loadModule: "workflow",
        executor: "batch",
        configDir: "remote/.redun",
        taskSignature: "main(x: int)",
        description: "The entry point.",
        extra: { memory: "8", image: "custom" },
        source: config.path,
      },
    });
    assert.deepEqual(config.warnings, []);
  });

  test("optional keys are undefined when not given", () => {
    const task = configOf(lines(...BATCH, "[federated_tasks.entry]", ...TASK)).federatedTasks
      .entry!;
    assert.equal(task.taskSignature, undefined);
    assert.equal(task.description, undefined);
    assert.deepEqual(task.extra, {});
  });

  for (const key of ["namespace", "task_name", "load_module", "executor", "config_dir"]) {
    test(`a missing ${key} is an error naming it and the section`, () => {
      const without = TASK.filter((l) => !l.startsWith(`${key} `));
      throwsConfigError(
        () => configOf(lines(...BATCH, "[federated_tasks.entry]", ...without)),
        "[federated_tasks.entry]",
        `"${key}"`,
      );
    });
  }

  test("an executor that is not defined is a warning", () => {
    const config = configOf(lines("[federated_tasks.entry]", ...TASK));
    assert.equal(config.warnings.length, 1);
    assert.match(config.warnings[0]!, /\[federated_tasks\.entry\].*"batch"/);
  });
});

describe("serializing a Config", () => {
  test("toData / fromData (also through structured clone and JSON) keep every section", () => {
    const root = tmp();
    write(root, {
      "fed/redun.ini": "[executors.remote]\ntype = alias\ntarget = default\n",
      "main/.redun/redun.ini": [
        "[DEFAULT]",
        "shared = ${HOME_DIR}",
        "[backend]",
        "db_uri = sqlite:///r.db",
        "value_store_path = values",
        "[scheduler]",
        "federated_configs = ../../fed",
        "ignore_warnings = namespace",
        "[limits]",
        "db = 2",
        "[executors.default]",
        "type = local",
        "mode = process",
        "[custom]",
        "key = ${shared}/x",
      ].join("\n"),
    });
    const original = loadConfig({
      configDir: path.join(root, "main/.redun"),
      env: { HOME_DIR: "/home/me" },
    });
    const copies = [
      Config.fromData(original.toData()),
      Config.fromData(structuredClone(original.toData())),
      Config.fromData(JSON.parse(JSON.stringify(original))),
    ];
    for (const copy of copies) {
      assert.equal(copy.configDir, original.configDir);
      assert.equal(copy.path, original.path);
      assert.deepEqual(copy.backend, original.backend);
      assert.deepEqual(copy.scheduler, original.scheduler);
      assert.deepEqual(copy.limits, { db: 2 });
      assert.deepEqual(copy.executors, original.executors);
      assert.deepEqual(Object.keys(copy.executors), ["default", "remote"]);
      assert.equal(copy.get("custom", "key"), "/home/me/x", "interpolated once, at load");
      assert.deepEqual(copy.sections(), original.sections());
    }
    assert.equal(original.backend.valueStorePath, path.join(root, "main/.redun/values"));
    assert.deepEqual(original.section("custom"), { shared: "/home/me", key: "/home/me/x" });
    assert.equal(original.section("nope"), undefined);
    assert.equal(original.resolvePath("a/b"), path.join(root, "main/.redun/a/b"));
    assert.equal(original.resolvePath("/abs"), "/abs");
    assert.equal(original.resolvePath("gs://b/x"), "gs://b/x");
  });
});

describe("toData / fromData", () => {
  test("a round trip (also through JSON) keeps every section and the imports", () => {
    const root = tmp();
    installFixture("published", path.join(root, "published", ".redun"));
    installFixture("published2", path.join(root, "published2", ".redun"));
    const dir = installFixture("full", path.join(root, "project", ".redun"));
    const env = { REDUN_ROLE: "arn:aws:iam::123:role/job" };
    const config = Config.fromDir(dir, env);
    const data = config.toData();

    // The copy does not read the files again.
    fs.rmSync(path.join(root, "published"), { recursive: true });
    fs.rmSync(path.join(root, "published2"), { recursive: true });

    // JSON drops properties whose value is undefined (e.g. an imported task's missing
    // description); compare what JSON keeps.
    const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
    const copies = [Config.fromData(data), Config.fromData(json(config) as typeof data)];
    for (const copy of copies) {
      assert.equal(copy.configDir, config.configDir);
      assert.equal(copy.path, config.path);
      assert.deepEqual(copy.sections(), config.sections());
      assert.deepEqual(copy.backend, config.backend);
      assert.deepEqual(copy.scheduler, config.scheduler);
      assert.deepEqual(copy.limits, config.limits);
      assert.deepEqual(copy.executors, config.executors);
      assert.deepEqual(json(copy.federatedTasks), json(config.federatedTasks));
      for (const name of Object.keys(config.executors)) {
        assert.deepEqual(copy.executorOptions(name), config.executorOptions(name), name);
      }
      assert.deepEqual(json(copy.toData()), json(data));
    }
    assert.deepEqual(copies[0]!.federatedTasks, config.federatedTasks);
    assert.deepEqual(copies[0]!.toData(), data);
  });

  test("the fixture reads as documented", () => {
    const root = tmp();
    installFixture("published", path.join(root, "published", ".redun"));
    const published2 = installFixture("published2", path.join(root, "published2", ".redun"));
    const dir = installFixture("full", path.join(root, "project", ".redun"));
    const config = Config.fromDir(dir, { REDUN_ROLE: "arn:r" });
    assert.equal(config.backend.sqlitePath, path.join(dir, "data", "redun.db"));
    assert.equal(config.backend.maxValueSize, 5000);
    assert.equal(config.backend.valueStorePath, path.join(dir, "values"));
    assert.equal(config.backend.valueStoreMinSize, 1024);
    assert.equal(config.scheduler.jobStatusInterval, 5);
    assert.deepEqual([...config.scheduler.ignoreWarnings], ["namespace"]);
    assert.equal(config.scheduler.federatedConfigs.length, 2);
    assert.equal(config.scheduler.federatedConfigs[1], published2);
    assert.deepEqual(config.limits, { db: 10, web_api: 5 });
    assert.deepEqual(Object.keys(config.executors).sort(), [
      "batch",
      "default",
      "headnode",
      "other_name",
      "remote_batch",
    ]);
    const batch = config.executorOptions("batch")!;
    assert.equal(batch.values.role, "arn:r");
    assert.equal(batch.values.vcpus, 2, "from DEFAULT");
    assert.deepEqual(batch.values.batch_tags, { project: "acme", user: "alice" });
    assert.deepEqual(batch.warnings, []);
    assert.equal(config.executorOptions("default")!.values.max_workers, 4);
    assert.equal(config.executorOptions("other_name")!.values.target, "batch");
    assert.deepEqual(Object.keys(config.federatedTasks).sort(), [
      "local_entry",
      "published_entry",
      "second_entry",
    ]);
    assert.deepEqual(config.warnings, []);
  });
});

describe("numbers in redun.ini out of range", () => {
  test("an integer beyond the safe range names the section and key", () => {
    configError(
      () => executor("local", ["max_workers = 99999999999999999999"]),
      /^\[executors\.e\] in .*redun\.ini max_workers: expected a whole number between -9007199254740991 and 9007199254740991, got "99999999999999999999"$/,
    );
    configError(
      () => config("[backend]\nmax_value_size = 99999999999999999999\n").backend,
      /^\[backend\] in .*redun\.ini max_value_size: expected a whole number between/,
    );
    configError(
      () => config("[limits]\ndb = 99999999999999999999\n"),
      /^\[limits\] in .*redun\.ini db: expected a whole number of at least 0/,
    );
    assert.equal(
      executor("local", ["max_workers = 9007199254740991"]).values.max_workers,
      2 ** 53 - 1,
    );
  });

  test("a negative interval or size names the section and key", () => {
    configError(
      () => config("[scheduler]\njob_status_interval = -1\n").scheduler,
      /^\[scheduler\] in .*redun\.ini job_status_interval: expected a number of at least 0, got "-1"$/,
    );
    configError(
      () => config("[backend]\nmax_value_size = -5\n").backend,
      /^\[backend\] in .*redun\.ini max_value_size: expected a whole number of at least 1, got "-5"$/,
    );
    configError(
      () => config("[backend]\nvalue_store_min_size = -1\n").backend,
      /value_store_min_size: expected a whole number of at least 0/,
    );
    configError(
      () => config("[backend]\ndb_retry_max_wait = -0.5\n").backend,
      /db_retry_max_wait: expected a number of at least 0/,
    );
    assert.equal(
      config("[scheduler]\njob_status_interval = 0.5\n").scheduler.jobStatusInterval,
      0.5,
    );
  });
});
