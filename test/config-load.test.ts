/**
 * The configuration as the configuration document describes it: where `.redun/redun.ini`
 * is found (and created), and every section and option with its default, read through
 * `Config`'s typed accessors and the executor option schemas. Every test works in a
 * temporary directory; fixtures under test/fixtures/config are copied there.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { after, describe, test } from "node:test";
import { Config, findConfigDir, loadConfig } from "../src/config/config.ts";
import type { Env } from "../src/config/config.ts";
import { ConfigError } from "../src/config/errors.ts";
import { EXECUTOR_SCHEMAS } from "../src/config/executor-options.ts";
import { parseIni } from "../src/config/ini.ts";
import { parseOptions } from "../src/config/options.ts";

const FIXTURES = fileURLToPath(new URL("./fixtures/config/", import.meta.url));

const made: string[] = [];
after(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A new temporary directory (real path, so that it compares equal to resolved paths). */
function tmp(): string {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "redun-cfg-")));
  made.push(dir);
  return dir;
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

/** A configuration from text, in a fresh `<tmp>/.redun` with an empty environment. */
function configOf(text: string, env: Env = {}): Config {
  return Config.fromString(text, { configDir: path.join(tmp(), ".redun"), env });
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

  test("a found .redun/ without redun.ini gets the default file", () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, ".redun"));
    const config = loadConfig({ cwd: root, env: {} });
    assert.ok(fs.existsSync(path.join(root, ".redun", "redun.ini")));
    assert.equal(config.executors.default?.type, "local");
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

describe("[backend]", () => {
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

  test("db_uri: postgresql", () => {
    const { backend } = backendOf("db_uri = postgresql://db.example.com:5432/redun");
    assert.equal(backend.dialect, "postgresql");
    assert.equal(backend.sqlitePath, undefined);
    assert.equal(backend.dbUri, "postgresql://db.example.com:5432/redun");
  });

  test("db_uri: credentials in the URI are rejected, pointing to db_username_env", () => {
    for (const uri of [
      "postgresql://alice:secret@host:5432/redun",
      "postgresql://alice@host/redun",
      "postgresql://:secret@host/redun",
    ]) {
      throwsConfigError(
        () => backendOf(`db_uri = ${uri}`),
        "[backend]",
        "db_uri",
        "db_username_env",
        "db_password_env",
      );
    }
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

  test("db_aws_secret_name: the database is PostgreSQL and db_uri is ignored", () => {
    const { backend } = backendOf("db_aws_secret_name = my-rds-secret", "db_uri = not a uri");
    assert.equal(backend.dbAwsSecretName, "my-rds-secret");
    assert.equal(backend.dialect, "postgresql");
    assert.equal(backend.automigrate, false);
  });

  test("db_username_env and db_password_env", () => {
    const { backend } = backendOf("db_username_env = MY_USER", "db_password_env = MY_PASS");
    assert.equal(backend.dbUsernameEnv, "MY_USER");
    assert.equal(backend.dbPasswordEnv, "MY_PASS");
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
  test("integers by name; keys are case-insensitive", () => {
    const config = configOf(lines("[limits]", "db = 10", "web_api = 5", "GPU = 0"));
    assert.deepEqual(config.limits, { db: 10, web_api: 5, gpu: 0 });
  });

  test("none without a [limits] section", () => {
    assert.deepEqual(configOf("").limits, {});
  });

  for (const bad of ["ten", "1.5", "", "-1", "5 units"]) {
    test(`a bad value (${JSON.stringify(bad)}) is an error naming [limits] and the key`, () => {
      throwsConfigError(
        () => configOf(lines("[limits]", "db = 1", `web_api = ${bad}`)),
        "[limits]",
        "web_api",
      );
    });
  }

  test("DEFAULT keys do not become limits", () => {
    const config = configOf(lines("[DEFAULT]", "shared = 3", "[limits]", "db = 1"));
    assert.deepEqual(config.limits, { db: 1 });
    assert.equal(config.get("limits", "shared"), "3", "still visible as a raw option");
  });
});

describe("[executors.NAME] sections", () => {
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

  test("a missing type is an error naming the section", () => {
    throwsConfigError(
      () => configOf(lines("[executors.nameless]", "max_workers = 2")),
      "[executors.nameless]",
      '"type"',
    );
  });

  test("[executor.NAME] (singular) is an error suggesting [executors.NAME]", () => {
    throwsConfigError(
      () => configOf(lines("[executor.batch]", "type = local")),
      "[executor.batch]",
      "[executors.batch]",
    );
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

describe("executor option schemas: the documented defaults", () => {
  const where = "[executors.x] in /p/.redun/redun.ini";
  const parse = (type: string, options: Record<string, string>) => {
    const schema = EXECUTOR_SCHEMAS[type];
    assert.ok(schema, `no schema for ${type}`);
    return parseOptions(schema, options, where);
  };
  const BATCH = { image: "img", queue: "q", s3_scratch: "s3://bucket/redun/" };

  test("local", () => {
    const { values, warnings } = parse("local", {});
    assert.deepEqual(values, { mode: "thread", max_workers: 20, start_method: "fork" });
    assert.deepEqual(warnings, []);
    assert.equal(parse("local", { mode: "process" }).values.mode, "process");
    assert.equal(parse("local", { start_method: "spawn" }).values.start_method, "spawn");
  });

  test("alias", () => {
    assert.deepEqual(parse("alias", { target: "batch" }).values, { target: "batch" });
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

  test("aws_batch: code_includes has a default pattern list", () => {
    // The document's default is **/*.py (Python redun); see the report for this deviation.
    const includes = parse("aws_batch", BATCH).values.code_includes;
    assert.ok(Array.isArray(includes) && includes.length > 0);
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

describe("[federated_tasks.NAME] sections", () => {
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

describe("federated_configs imports", () => {
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
