/**
 * The redun configuration: `.redun/redun.ini`, found as the configuration document says,
 * parsed with configparser semantics, and read through typed accessors.
 */
import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "./config-error.ts";
import { own, parseIni, type IniData } from "./ini.ts";
import { executorSchema, inheritedOptions } from "./executor-options.ts";
import { parseOptions, type OptionSchema, type ParsedOptions } from "./option-schema.ts";
import { DEFAULT_INI } from "./default-ini.ts";
import {
  EXECUTORS_PREFIX,
  FEDERATED_PREFIX,
  ownOptions,
  readExecutors,
  readFederatedTasks,
  type ExecutorConfig,
  type FederatedTaskConfig,
} from "./config-sections.ts";

export { DEFAULT_INI };
export type { ExecutorConfig, FederatedTaskConfig };

/** The name of the configuration directory. */
export const CONFIG_DIR_NAME = ".redun";
/** The name of the configuration file inside it. */
export const CONFIG_FILE_NAME = "redun.ini";

/** An environment: variables for `${NAME}` and `REDUN_CONFIG`. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The `[scheduler]` section. */
export interface SchedulerConfig {
  /** Warning kinds to silence, e.g. `namespace`. */
  ignoreWarnings: Set<string>;
  /** `file_or_module::function` that builds the scheduler (a file relative to redun.ini). */
  setupScheduler?: string;
  /** Seconds between job status tables (default 20); 0 or less shows the table only at the end. */
  jobStatusInterval: number;
  /**
   * Seconds a claim on a running call lasts unless renewed (default 20): how long another
   * scheduler waits before taking over the calls of one that died. Our own addition.
   */
  callLease: number;
  /** Other configuration directories (absolute) to import executors and federated tasks from. */
  federatedConfigs: string[];
  /**
   * The context for `getContext()`: the JSON object of `context`, or of the file
   * `context_file` names (relative to the configuration directory); undefined with neither.
   */
  context: Record<string, unknown> | undefined;
  /** How much a run prints (`log_level`): `DEBUG`, `INFO` (default), `WARNING` or `ERROR`. */
  logLevel: LogLevel;
}

/** How much a run prints, as `[scheduler] log_level` and `redun run --log-level` name it. */
export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR";
/** The log levels, most verbose first. */
export const LOG_LEVELS: readonly LogLevel[] = ["DEBUG", "INFO", "WARNING", "ERROR"];

/** The `[backend]` section. */
export interface BackendConfig {
  /** As written; ignored when `dbAwsSecretName` is set. */
  dbUri: string;
  dialect: "sqlite" | "postgresql";
  /** For SQLite: the absolute database file, or `:memory:`. */
  sqlitePath?: string;
  /** Default true for SQLite, false otherwise (a shared database needs a planned migration). */
  automigrate: boolean;
  /** The environment variable holding the database user name. */
  dbUsernameEnv: string;
  /** The environment variable holding the database password. */
  dbPasswordEnv: string;
  /** An AWS Secrets Manager secret with the database's address and credentials. */
  dbAwsSecretName?: string;
  /** Largest value to store, in bytes. */
  maxValueSize: number;
  /** A local directory (absolute) or an `s3://` prefix. */
  valueStorePath?: string;
  /** Values of at least this many bytes go to the value store. */
  valueStoreMinSize?: number;
  /** Tries of a database operation that fails with a transient error (connection refused, …). */
  dbRetries: number;
  /** How long, in seconds, to keep retrying an unreachable database before the run fails. */
  dbRetryMaxWait: number;
}

/** Where to look for the configuration (see {@link loadConfig}). */
export interface LoadConfigOptions {
  /** The `--config` flag: a configuration directory. */
  configDir?: string;
  /** Where the upward search starts and a new `.redun/` goes (default `process.cwd()`). */
  cwd?: string;
  /** Variables for `REDUN_CONFIG` and `${NAME}` (default `process.env`). */
  env?: Env;
}

const BACKEND_SCHEMA = {
  db_uri: { type: "string", default: "sqlite:///redun.db" },
  automigrate: { type: "bool", default: undefined },
  db_username_env: { type: "string", default: "REDUN_DB_USERNAME" },
  db_password_env: { type: "string", default: "REDUN_DB_PASSWORD" },
  db_aws_secret_name: { type: "string", default: undefined },
  max_value_size: { type: "int", default: 1_000_000_000, min: 1 },
  value_store_path: { type: "string", default: undefined },
  value_store_min_size: { type: "int", default: undefined, min: 0 },
  // Minutes, not seconds: a database restart or fail-over must not fail a long run (the
  // same defaults as DEFAULT_RETRY in backend/retry.ts, which the config may not import).
  db_retries: { type: "int", default: 1000, min: 1 },
  db_retry_max_wait: { type: "float", default: 300, min: 0 },
} satisfies OptionSchema;

const SCHEDULER_SCHEMA = {
  ignore_warnings: { type: "list", default: [] },
  setup_scheduler: { type: "string", default: undefined },
  // The document says integer; fractions of a second are harmless and handy.
  job_status_interval: { type: "float", default: 20, min: 0 },
  call_lease: { type: "float", default: 20, min: 0.1 },
  federated_configs: { type: "lines", default: [] },
  context: { type: "json", default: undefined },
  context_file: { type: "string", default: undefined, isPath: true },
  log_level: { type: "string", default: "INFO", choices: LOG_LEVELS },
} satisfies OptionSchema;

/**
 * Executors every project has without configuring them, as in Python redun: `default` (a
 * local thread pool) and `process` (a local process pool). An `[executors.NAME]` section of
 * the same name replaces one.
 */
export const BUILTIN_EXECUTORS: Readonly<
  Record<string, { type: string; options: Readonly<Record<string, string>> }>
> = {
  default: { type: "local", options: {} },
  process: { type: "local", options: { mode: "process" } },
};

/** The sections redun reads (`NAME` stands for any name), for the unknown-section warning. */
const KNOWN_SECTIONS = [
  "backend",
  "scheduler",
  "limits",
  "tags",
  `${EXECUTORS_PREFIX}NAME`,
  `${FEDERATED_PREFIX}NAME`,
];

function isKnownSection(name: string): boolean {
  return KNOWN_SECTIONS.some((known) =>
    known.endsWith(".NAME")
      ? name.startsWith(known.slice(0, -"NAME".length)) && name.length > known.length - 4
      : name === known,
  );
}
const INT_RE = /^[+-]?\d+$/;
const URL_RE = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Executors and federated tasks imported through `federated_configs`. */
interface Imported {
  executors: Record<string, ExecutorConfig>;
  federatedTasks: Record<string, FederatedTaskConfig>;
}

/** Serializable form of a Config (for worker threads and subruns); see {@link Config.fromData}. */
export interface ConfigData {
  configDir: string;
  path: string;
  ini: IniData;
  imported: Imported;
}

/**
 * A loaded configuration. Sections and options are read through typed accessors; raw
 * access is there for options of user-defined executors and `setup_scheduler` functions.
 * Every section is checked when the configuration is made, so a bad file fails before
 * anything runs.
 */
export class Config {
  /** Warnings found while reading (unknown keys, …), for the caller to show. */
  readonly warnings: string[] = [];
  private readonly imported: Imported;
  /** The context read from `[scheduler] context_file`, so the file is read once. */
  private contextFile: { path: string; context: Record<string, unknown> } | undefined;

  private constructor(
    /** The configuration directory (`.../.redun`), absolute. */
    readonly configDir: string,
    /** The `redun.ini` file (it may not exist for a configuration made in code). */
    readonly path: string,
    private readonly ini: IniData,
    imported: Imported | undefined,
    env: Env,
  ) {
    this.imported = imported ?? { executors: {}, federatedTasks: {} };
    if (!imported) this.importFederatedConfigs(env);
    void this.backend;
    void this.scheduler;
    void this.limits;
    const executors = this.executors;
    for (const [name, task] of Object.entries(this.federatedTasks)) {
      if (!executors[task.executor] && !Object.hasOwn(BUILTIN_EXECUTORS, task.executor)) {
        this.warn(
          `[federated_tasks.${name}] in ${task.source}: executor "${task.executor}" is not defined`,
        );
      }
    }
    if (!imported) {
      for (const section of ini.sections.filter((name) => !isKnownSection(name))) {
        this.warn(
          `${this.where(section)}: unknown section, not read by redun (it reads ` +
            `${KNOWN_SECTIONS.map((n) => `[${n}]`).join(", ")}); if a setup_scheduler ` +
            "function reads it, `ignore_warnings = config` in [scheduler] silences this",
        );
      }
    }
  }

  /**
   * A configuration from INI text (for tests and programs that build their own).
   * @param options.configDir relative paths in the text are resolved against it.
   * @param options.path the file name used in messages (default `configDir/redun.ini`).
   * @param options.env variables for `${NAME}` (default `process.env`).
   */
  static fromString(
    text: string,
    options: { configDir: string; path?: string; env?: Env },
  ): Config {
    const configDir = path.resolve(options.configDir);
    const file = options.path ?? path.join(configDir, CONFIG_FILE_NAME);
    const env = options.env ?? process.env;
    return new Config(configDir, file, parseIni(text, { source: file, env }), undefined, env);
  }

  /** Reads `redun.ini` from a configuration directory. */
  static fromDir(configDir: string, env?: Env): Config {
    const dir = path.resolve(configDir);
    const file = path.join(dir, CONFIG_FILE_NAME);
    return Config.fromString(readConfigFile(file), { configDir: dir, path: file, env });
  }

  /** Rebuilds a configuration sent from another thread or process (see {@link toData}). */
  static fromData(data: ConfigData): Config {
    return new Config(data.configDir, data.path, data.ini, data.imported, {});
  }

  /** A plain-data (structured-clone and JSON safe) form of this configuration. */
  toData(): ConfigData {
    return structuredClone({
      configDir: this.configDir,
      path: this.path,
      ini: this.ini,
      imported: this.imported,
    });
  }

  /** Same as {@link toData}, for `JSON.stringify`. */
  toJSON(): ConfigData {
    return this.toData();
  }

  /** Section names in file order (without DEFAULT). */
  sections(): string[] {
    return [...this.ini.sections];
  }

  /** A section's options (interpolated, DEFAULT included), or undefined if there is none. */
  section(name: string): Readonly<Record<string, string>> | undefined {
    return Object.hasOwn(this.ini.values, name) ? this.ini.values[name] : undefined;
  }

  /** One option (interpolated; keys are case-insensitive), or `fallback`. */
  get(section: string, key: string, fallback?: string): string | undefined {
    return own(this.section(section), key.toLowerCase()) ?? fallback;
  }

  /** A path from the configuration: relative local paths are relative to the config dir. */
  resolvePath(p: string): string {
    return path.isAbsolute(p) || URL_RE.test(p) ? p : path.resolve(this.configDir, p);
  }

  /**
   * A section's options checked against a schema: DEFAULT options apply (without warnings
   * when the schema does not declare them), unknown keys add warnings.
   */
  parse<S extends OptionSchema>(section: string, schema: S, extra: Record<string, string> = {}) {
    const own = new Set(this.ini.ownKeys[section] ?? []);
    const inherited = new Set(Object.keys(this.ini.defaults).filter((k) => !own.has(k)));
    // Like redun, a section that is not in the file gets nothing from DEFAULT.
    const raw = { ...(this.section(section) ?? {}), ...extra };
    const { values, warnings } = parseOptions(schema, raw, this.where(section), {
      inherited,
      baseDir: this.configDir,
    });
    for (const w of warnings) this.warn(w);
    return values;
  }

  /** The `[scheduler]` section. */
  get scheduler(): SchedulerConfig {
    const v = this.parse("scheduler", SCHEDULER_SCHEMA);
    return {
      ignoreWarnings: new Set(v.ignore_warnings),
      setupScheduler: v.setup_scheduler ?? undefined,
      jobStatusInterval: v.job_status_interval,
      callLease: v.call_lease,
      federatedConfigs: [...new Set(v.federated_configs.map((p) => this.resolvePath(p)))],
      context: this.schedulerContext(v.context, v.context_file),
      logLevel: v.log_level as LogLevel,
    };
  }

  /**
   * The `[tags]` section: tags every execution started with this configuration gets
   * (values read as JSON when they parse, else as strings), as `redun run --tag` adds them.
   */
  get tags(): Record<string, unknown> {
    return Object.fromEntries(
      Object.entries(this.own("tags")).map(([key, text]) => [key, parseTagValue(text)]),
    );
  }

  /** `[scheduler] context` or `context_file` (already parsed and resolved), read once. */
  private schedulerContext(
    inline: Record<string, unknown> | null | undefined,
    file: string | null | undefined,
  ): Record<string, unknown> | undefined {
    if (inline != null && file != null) {
      throw new ConfigError(
        `${this.where("scheduler")}: give either context or context_file, not both`,
      );
    }
    if (file == null) return inline ?? undefined;
    if (this.contextFile?.path !== file) {
      const where = `${this.where("scheduler")} context_file`;
      let text: string;
      try {
        text = fs.readFileSync(file, "utf8");
      } catch (error) {
        throw new ConfigError(`${where}: cannot read ${file} (${(error as Error).message})`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new ConfigError(`${where}: ${file} is not valid JSON (${(error as Error).message})`);
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        throw new ConfigError(`${where}: ${file} must hold a JSON object`);
      }
      this.contextFile = { path: file, context: parsed as Record<string, unknown> };
    }
    return structuredClone(this.contextFile.context);
  }

  /** The `[backend]` section, with the database URI checked and resolved. */
  get backend(): BackendConfig {
    const v = this.parse("backend", BACKEND_SCHEMA);
    const dbAwsSecretName = v.db_aws_secret_name ?? undefined;
    // The secret names the (PostgreSQL) database, and db_uri is ignored.
    const { dialect, sqlitePath } = dbAwsSecretName
      ? { dialect: "postgresql" as const, sqlitePath: undefined }
      : this.parseDbUri(v.db_uri);
    const valueStore = v.value_store_path ?? undefined;
    return {
      dbUri: v.db_uri,
      dialect,
      sqlitePath,
      automigrate: v.automigrate ?? dialect === "sqlite",
      dbUsernameEnv: v.db_username_env,
      dbPasswordEnv: v.db_password_env,
      dbAwsSecretName,
      maxValueSize: v.max_value_size,
      valueStorePath: valueStore === undefined ? undefined : this.resolvePath(valueStore),
      valueStoreMinSize: v.value_store_min_size ?? undefined,
      dbRetries: v.db_retries,
      dbRetryMaxWait: v.db_retry_max_wait,
    };
  }

  /** `sqlite:///rel.db`, `sqlite:////abs.db`, `sqlite:///:memory:`, `postgresql://host/db`. */
  private parseDbUri(dbUri: string): Pick<BackendConfig, "dialect" | "sqlitePath"> {
    const where = `${this.where("backend")} db_uri`;
    if (dbUri.startsWith("sqlite://")) {
      // As SQLAlchemy reads it: three slashes, then the path (relative to the config dir,
      // or absolute with a fourth); no path is an in-memory database; a ?query is not part
      // of the path.
      const file = dbUri.slice("sqlite://".length).replace(/\?.*$/, "").replace(/^\//, "");
      if (file === "" || file === ":memory:") return { dialect: "sqlite", sqlitePath: ":memory:" };
      if (!dbUri.startsWith("sqlite:///")) {
        throw new ConfigError(`${where}: "${dbUri}" is not a sqlite:///PATH URI (three slashes)`);
      }
      return { dialect: "sqlite", sqlitePath: path.resolve(this.configDir, file) };
    }
    if (!/^postgres(ql)?:\/\//.test(dbUri)) {
      throw new ConfigError(
        `${where}: "${dbUri}" is not a sqlite:///PATH or postgresql://HOST:PORT/DB URI`,
      );
    }
    let url: URL;
    try {
      url = new URL(dbUri);
    } catch {
      throw new ConfigError(`${where}: "${dbUri}" is not a valid URI`);
    }
    if (url.username || url.password) {
      throw new ConfigError(
        `${where}: a username or password is not allowed in db_uri (redun.ini is often in source control); ` +
          "set them in the environment variables named by db_username_env and db_password_env " +
          "(default REDUN_DB_USERNAME, REDUN_DB_PASSWORD)",
      );
    }
    return { dialect: "postgresql", sqlitePath: undefined };
  }

  /** The `[limits]` section: named non-negative whole amounts. */
  get limits(): Record<string, number> {
    const limits: Record<string, number> = {};
    for (const [key, value] of Object.entries(this.own("limits"))) {
      if (!INT_RE.test(value) || Number(value) < 0 || !Number.isSafeInteger(Number(value))) {
        throw new ConfigError(
          `${this.where("limits")} ${key}: expected a whole number of at least 0, got ${JSON.stringify(value)}`,
        );
      }
      limits[key] = Number(value);
    }
    return limits;
  }

  /** `[executors.NAME]` sections (and those imported by `federated_configs`). */
  get executors(): Record<string, ExecutorConfig> {
    return { ...readExecutors(this.ini, this.path, this.configDir), ...this.imported.executors };
  }

  /**
   * An executor's options checked against its type's schema, with defaults filled and
   * relative paths resolved; undefined for an executor that is not configured. A type
   * without a declared schema gets its options as written.
   */
  executorOptions(name: string): ParsedOptions | undefined {
    const executor = this.executors[name];
    if (!executor) return undefined;
    const schema = executorSchema(executor.type);
    if (!schema) return { values: { ...executor.options }, warnings: [] };
    return parseOptions(schema, executor.options, `[executors.${name}] in ${executor.source}`, {
      baseDir: executor.configDir,
      inherited: inheritedOptions(executor.options),
    });
  }

  /** `[federated_tasks.NAME]` sections (and those imported by `federated_configs`). */
  get federatedTasks(): Record<string, FederatedTaskConfig> {
    return { ...readFederatedTasks(this.ini, this.path), ...this.imported.federatedTasks };
  }

  private where(section: string): string {
    return `[${section}] in ${this.path}`;
  }

  private warn(warning: string): void {
    if (!this.warnings.includes(warning)) this.warnings.push(warning);
  }

  /** Options a section sets itself (not inherited from DEFAULT). */
  private own(section: string): Record<string, string> {
    return ownOptions(this.ini, section);
  }

  /**
   * Imports executors and federated tasks from `[scheduler] federated_configs`. Only
   * those sections are read (not the imported files' own federated_configs); a name
   * defined twice, here or in two imports, is an error naming both files.
   */
  private importFederatedConfigs(env: Env): void {
    const executors = this.executors;
    const tasks = this.federatedTasks;
    for (const dir of this.scheduler.federatedConfigs) {
      const where = `${this.where("scheduler")} federated_configs`;
      if (URL_RE.test(dir)) {
        throw new ConfigError(
          `${where}: ${dir}: only local configuration directories can be imported`,
        );
      }
      const file = path.join(dir, CONFIG_FILE_NAME);
      if (!fs.existsSync(file))
        throw new ConfigError(`${where}: ${dir} has no ${CONFIG_FILE_NAME}`);
      // Only the sections imported are read, so the rest of the file cannot break the import.
      const ini = parseIni(readConfigFile(file), {
        source: file,
        env,
        only: (section) =>
          section.startsWith(EXECUTORS_PREFIX) ||
          section.startsWith(FEDERATED_PREFIX) ||
          section.startsWith("executor."),
      });
      for (const [name, executor] of Object.entries(readExecutors(ini, file, dir))) {
        const existing = executors[name];
        if (existing) {
          throw new ConfigError(
            `executor "${name}" is defined twice: in ${existing.source} and in ${executor.source} (federated_configs)`,
          );
        }
        executors[name] = this.imported.executors[name] = executor;
      }
      for (const [name, task] of Object.entries(readFederatedTasks(ini, file))) {
        const existing = tasks[name];
        if (existing) {
          throw new ConfigError(
            `federated task "${name}" is defined twice: in ${existing.source} and in ${task.source} (federated_configs)`,
          );
        }
        tasks[name] = this.imported.federatedTasks[name] = task;
      }
    }
  }
}

function readConfigFile(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    throw new ConfigError(
      `cannot read ${file}: the configuration directory has no ${CONFIG_FILE_NAME}`,
    );
  }
}

/**
 * A value as written in `redun.ini` or on the command line (a tag, `-o key=value`, `--context`):
 * JSON when it parses (`3`, `true`, `"x"`, `[1, 2]`), else the text itself.
 */
export function parseTagValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Where the configuration directory is, in the documented order of precedence:
 * `configDir` (the `--config` flag), `REDUN_CONFIG`, the nearest `.redun/` from `cwd`
 * upward, else `cwd/.redun` (with `create: true`).
 * @throws ConfigError when the flag or the variable names a directory without redun.ini.
 */
export function findConfigDir(options: LoadConfigOptions = {}): { dir: string; create: boolean } {
  const env = options.env ?? process.env;
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const given = options.configDir
    ? { dir: options.configDir, label: `--config ${options.configDir}` }
    : env.REDUN_CONFIG
      ? { dir: env.REDUN_CONFIG, label: `REDUN_CONFIG=${env.REDUN_CONFIG}` }
      : undefined;
  if (given) {
    const dir = path.resolve(cwd, given.dir);
    if (!fs.existsSync(path.join(dir, CONFIG_FILE_NAME))) {
      throw new ConfigError(`${given.label}: ${dir} has no ${CONFIG_FILE_NAME}`);
    }
    return { dir, create: false };
  }
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, CONFIG_DIR_NAME);
    if (fs.statSync(candidate, { throwIfNoEntry: false })?.isDirectory()) {
      return { dir: candidate, create: false };
    }
    if (path.dirname(dir) === dir) break;
  }
  return { dir: path.join(cwd, CONFIG_DIR_NAME), create: true };
}

/**
 * Finds and loads the configuration (see {@link findConfigDir}); a new `.redun/`, or a
 * found one without redun.ini, gets the commented default {@link DEFAULT_INI}.
 * @throws ConfigError for a missing configuration named by the flag or `REDUN_CONFIG`, or
 *   any problem in the file.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const { dir } = findConfigDir(options);
  const file = path.join(dir, CONFIG_FILE_NAME);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    try {
      fs.writeFileSync(file, DEFAULT_INI, { flag: "wx" });
    } catch (error) {
      // Another process made it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  return Config.fromDir(dir, options.env);
}
