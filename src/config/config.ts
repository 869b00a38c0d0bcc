/**
 * The redun configuration: `.redun/redun.ini`, found as the configuration document says,
 * parsed with configparser semantics, and read through typed accessors.
 */
import fs from "node:fs";
import path from "node:path";
import { ConfigError } from "./errors.ts";
import { parseIni, type IniData } from "./ini.ts";
import { executorSchema } from "./executor-options.ts";
import { parseOptions, type OptionSchema } from "./options.ts";

export const CONFIG_DIR_NAME = ".redun";
export const CONFIG_FILE_NAME = "redun.ini";

/** The `[scheduler]` section. */
export interface SchedulerConfig {
  /** Warning kinds to silence, e.g. `namespace`. */
  ignoreWarnings: Set<string>;
  /** `file_or_module::function` that builds the scheduler. */
  setupScheduler?: string;
  /** Seconds between job status tables; 0 or less shows the table only at the end. */
  jobStatusInterval: number;
  /** Other configuration directories to import executors and federated tasks from. */
  federatedConfigs: string[];
}

/** The `[backend]` section. */
export interface BackendConfig {
  dbUri: string;
  dialect: "sqlite" | "postgresql";
  /** For SQLite: the absolute database file, or `:memory:`. */
  sqlitePath?: string;
  automigrate: boolean;
  dbUsernameEnv: string;
  dbPasswordEnv: string;
  dbAwsSecretName?: string;
  maxValueSize: number;
  /** A local directory (absolute) or an `s3://` prefix. */
  valueStorePath?: string;
  valueStoreMinSize?: number;
}

/** An `[executors.NAME]` section. */
export interface ExecutorConfig {
  type: string;
  /** The section's options other than `type`, as written (strings). */
  options: Record<string, string>;
  /** The file that defined it (for messages and relative paths). */
  source: string;
}

/** A `[federated_tasks.NAME]` section. */
export interface FederatedTaskConfig {
  namespace: string;
  taskName: string;
  loadModule: string;
  executor: string;
  configDir: string;
  taskSignature?: string;
  description?: string;
  /** Other keys: passed on to the federated subrun as task options / configuration. */
  extra: Record<string, string>;
  source: string;
}

const DEFAULT_INI = `# redun configuration. Every option is described in the configuration reference.

[backend]
# Relative sqlite paths are relative to this directory.
db_uri = sqlite:///redun.db
# automigrate = true
# max_value_size = 1000000000
# value_store_path = values/
# value_store_min_size = 1000000

[scheduler]
# job_status_interval = 20
# ignore_warnings = namespace
# setup_scheduler = ../workflow.ts::setup_scheduler
# federated_configs = ../other/.redun

[executors.default]
type = local
# mode = thread        (thread, process, or inline: the scheduler's own thread)
max_workers = 20

# [executors.procs]
# type = local
# mode = process
# max_workers = 4

# [limits]
# db = 10
`;

const BACKEND_SCHEMA: OptionSchema = {
  db_uri: { type: "string", default: "sqlite:///redun.db" },
  automigrate: { type: "bool", default: undefined },
  db_username_env: { type: "string", default: "REDUN_DB_USERNAME" },
  db_password_env: { type: "string", default: "REDUN_DB_PASSWORD" },
  db_aws_secret_name: { type: "string", default: undefined },
  max_value_size: { type: "int", default: 1_000_000_000, min: 1 },
  value_store_path: { type: "string", default: undefined },
  value_store_min_size: { type: "int", default: undefined, min: 0 },
};

const SCHEDULER_SCHEMA: OptionSchema = {
  ignore_warnings: { type: "list", default: [] },
  setup_scheduler: { type: "string", default: undefined },
  job_status_interval: { type: "float", default: 20 },
  federated_configs: { type: "lines", default: [] },
};

const FEDERATED_TASK_REQUIRED = [
  "namespace",
  "task_name",
  "load_module",
  "executor",
  "config_dir",
] as const;

/** Serializable form of a Config (for worker threads and subruns). */
export interface ConfigData {
  configDir: string;
  path: string;
  ini: IniData;
  imported: {
    executors: Record<string, ExecutorConfig>;
    federatedTasks: Record<string, FederatedTaskConfig>;
  };
}

/**
 * A loaded configuration. Sections and options are read through typed accessors; raw
 * access is there for options of user-defined executors and `setup_scheduler` functions.
 */
export class Config {
  /** Warnings found while reading (unknown keys, …), for the caller to show. */
  readonly warnings: string[] = [];
  private readonly importedExecutors: Record<string, ExecutorConfig>;
  private readonly importedFederatedTasks: Record<string, FederatedTaskConfig>;

  private constructor(
    /** The configuration directory (`.../.redun`). */
    readonly configDir: string,
    /** The `redun.ini` file (it may not exist for a configuration made in code). */
    readonly path: string,
    private readonly ini: IniData,
    imported?: ConfigData["imported"],
  ) {
    this.importedExecutors = imported?.executors ?? {};
    this.importedFederatedTasks = imported?.federatedTasks ?? {};
    if (!imported) this.importFederatedConfigs();
    // Validate every section now, so a bad file fails before anything runs.
    void this.backend;
    void this.scheduler;
    void this.limits;
    void this.executors;
    void this.federatedTasks;
  }

  /**
   * A configuration from INI text.
   * @param configDir relative paths in the text are resolved against it.
   */
  static fromString(
    text: string,
    options: { configDir: string; path?: string; env?: Record<string, string | undefined> },
  ): Config {
    const configDir = path.resolve(options.configDir);
    const file = options.path ?? path.join(configDir, CONFIG_FILE_NAME);
    return new Config(configDir, file, parseIni(text, { source: file, env: options.env }));
  }

  /** Reads `redun.ini` from a configuration directory. */
  static fromDir(configDir: string, env?: Record<string, string | undefined>): Config {
    const file = path.join(path.resolve(configDir), CONFIG_FILE_NAME);
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch {
      throw new ConfigError(
        `cannot read ${file}: the configuration directory has no ${CONFIG_FILE_NAME}`,
      );
    }
    return Config.fromString(text, { configDir, path: file, env });
  }

  /** Rebuilds a configuration sent from another thread or process. */
  static fromData(data: ConfigData): Config {
    return new Config(data.configDir, data.path, data.ini, data.imported);
  }

  /** A plain-data form of this configuration (see `fromData`). */
  toData(): ConfigData {
    return {
      configDir: this.configDir,
      path: this.path,
      ini: this.ini,
      imported: { executors: this.importedExecutors, federatedTasks: this.importedFederatedTasks },
    };
  }

  /** Section names in file order. */
  sections(): string[] {
    return [...this.ini.sections];
  }

  /** A section's options (interpolated, DEFAULT included), or undefined. */
  section(name: string): Readonly<Record<string, string>> | undefined {
    return this.ini.values[name];
  }

  /** One option, or `fallback`. */
  get(section: string, key: string, fallback?: string): string | undefined {
    return this.ini.values[section]?.[key.toLowerCase()] ?? fallback;
  }

  /** A path from the configuration, resolved against the configuration directory. */
  resolvePath(p: string): string {
    return path.isAbsolute(p) || /^[a-z][a-z0-9+.-]*:\/\//i.test(p)
      ? p
      : path.resolve(this.configDir, p);
  }

  private where(section: string): string {
    return `[${section}] in ${this.path}`;
  }

  /** Options a section sets itself (not inherited from DEFAULT). */
  private own(section: string): Record<string, string> {
    const values = this.ini.values[section] ?? {};
    return Object.fromEntries((this.ini.ownKeys[section] ?? []).map((key) => [key, values[key]!]));
  }

  /** A section's options checked against a schema; DEFAULT options apply, unknown ones warn. */
  parse(
    section: string,
    schema: OptionSchema,
    extra: Record<string, string> = {},
  ): Record<string, unknown> {
    const own = new Set(this.ini.ownKeys[section] ?? []);
    const inherited = new Set(Object.keys(this.ini.defaults).filter((k) => !own.has(k)));
    const raw = { ...(this.ini.values[section] ?? this.ini.defaults), ...extra };
    const { values, warnings } = parseOptions(schema, raw, this.where(section), inherited);
    for (const w of warnings) if (!this.warnings.includes(w)) this.warnings.push(w);
    return values;
  }

  /** The `[scheduler]` section. */
  get scheduler(): SchedulerConfig {
    const v = this.parse("scheduler", SCHEDULER_SCHEMA);
    return {
      ignoreWarnings: new Set(v.ignore_warnings as string[]),
      setupScheduler: v.setup_scheduler as string | undefined,
      jobStatusInterval: v.job_status_interval as number,
      federatedConfigs: (v.federated_configs as string[]).map((p) => this.resolvePath(p)),
    };
  }

  /** The `[backend]` section, with the database URI checked and resolved. */
  get backend(): BackendConfig {
    const v = this.parse("backend", BACKEND_SCHEMA);
    const dbUri = v.db_uri as string;
    const where = `${this.where("backend")} db_uri`;
    let dialect: BackendConfig["dialect"];
    let sqlitePath: string | undefined;
    if (dbUri.startsWith("sqlite:///")) {
      dialect = "sqlite";
      const p = dbUri.slice("sqlite:///".length);
      if (!p) throw new ConfigError(`${where}: "${dbUri}" names no database file`);
      sqlitePath = p === ":memory:" ? p : path.resolve(this.configDir, p);
    } else if (/^postgres(ql)?:\/\//.test(dbUri)) {
      dialect = "postgresql";
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
    } else {
      throw new ConfigError(`${where}: "${dbUri}" is not a sqlite:/// or postgresql:// URI`);
    }
    const valueStore = v.value_store_path as string | undefined;
    return {
      dbUri,
      dialect,
      sqlitePath,
      automigrate: (v.automigrate as boolean | undefined) ?? dialect === "sqlite",
      dbUsernameEnv: v.db_username_env as string,
      dbPasswordEnv: v.db_password_env as string,
      dbAwsSecretName: v.db_aws_secret_name as string | undefined,
      maxValueSize: v.max_value_size as number,
      valueStorePath: valueStore === undefined ? undefined : this.resolvePath(valueStore),
      valueStoreMinSize: v.value_store_min_size as number | undefined,
    };
  }

  /** The `[limits]` section: named non-negative whole amounts. */
  get limits(): Record<string, number> {
    const limits: Record<string, number> = {};
    for (const [key, value] of Object.entries(this.own("limits"))) {
      const n = Number(value);
      if (!value.trim() || !Number.isInteger(n) || n < 0) {
        throw new ConfigError(
          `${this.where("limits")} ${key}: expected a whole number of at least 0, got "${value}"`,
        );
      }
      limits[key] = n;
    }
    return limits;
  }

  /** `[executors.NAME]` sections (and those imported by `federated_configs`). */
  get executors(): Record<string, ExecutorConfig> {
    const executors: Record<string, ExecutorConfig> = {};
    for (const section of this.ini.sections) {
      if (section.startsWith("executor.")) {
        throw new ConfigError(
          `${this.where(section)}: executor sections are named [executors.NAME] (with an s)`,
        );
      }
      if (!section.startsWith("executors.")) continue;
      const name = section.slice("executors.".length);
      const { type, ...options } = this.own(section);
      if (!type)
        throw new ConfigError(
          `${this.where(section)}: the option "type" is required (local, docker, aws_batch, …)`,
        );
      // DEFAULT options reach an executor when its type declares them (configparser
      // inheritance, without warnings about DEFAULT keys meant for other sections).
      const schema = executorSchema(type) ?? {};
      for (const [key, value] of Object.entries(this.ini.values[section] ?? {})) {
        if (!(key in options) && key !== "type" && key in schema) options[key] = value;
      }
      executors[name] = { type, options, source: this.path };
    }
    return { ...executors, ...this.importedExecutors };
  }

  /** `[federated_tasks.NAME]` sections (and those imported by `federated_configs`). */
  get federatedTasks(): Record<string, FederatedTaskConfig> {
    const tasks: Record<string, FederatedTaskConfig> = {};
    for (const section of this.ini.sections) {
      if (!section.startsWith("federated_tasks.")) continue;
      const name = section.slice("federated_tasks.".length);
      const options = this.own(section);
      for (const key of FEDERATED_TASK_REQUIRED) {
        if (!options[key])
          throw new ConfigError(`${this.where(section)}: the option "${key}" is required`);
      }
      const {
        namespace,
        task_name,
        load_module,
        executor,
        config_dir,
        task_signature,
        description,
        ...extra
      } = options;
      tasks[name] = {
        namespace: namespace!,
        taskName: task_name!,
        loadModule: load_module!,
        executor: executor!,
        configDir: config_dir!,
        taskSignature: task_signature,
        description,
        extra,
        source: this.path,
      };
    }
    return { ...tasks, ...this.importedFederatedTasks };
  }

  /** Imports executors and federated tasks from `[scheduler] federated_configs`. */
  private importFederatedConfigs(): void {
    const ownExecutors = this.executors;
    const ownTasks = this.federatedTasks;
    for (const dir of this.scheduler.federatedConfigs) {
      if (!fs.existsSync(path.join(dir, CONFIG_FILE_NAME))) {
        throw new ConfigError(
          `${this.where("scheduler")} federated_configs: ${dir} has no ${CONFIG_FILE_NAME}`,
        );
      }
      const other = Config.fromDir(dir);
      for (const [name, executor] of Object.entries(other.executors)) {
        const existing = ownExecutors[name] ?? this.importedExecutors[name];
        if (existing) {
          throw new ConfigError(
            `executor "${name}" is defined twice: in ${existing.source} and in ${executor.source} (federated_configs)`,
          );
        }
        this.importedExecutors[name] = executor;
      }
      for (const [name, task] of Object.entries(other.federatedTasks)) {
        const existing = ownTasks[name] ?? this.importedFederatedTasks[name];
        if (existing) {
          throw new ConfigError(
            `federated task "${name}" is defined twice: in ${existing.source} and in ${task.source} (federated_configs)`,
          );
        }
        this.importedFederatedTasks[name] = task;
      }
    }
  }
}

/** Where the configuration directory is, in the documented order of precedence. */
export function findConfigDir(
  options: { configDir?: string; cwd?: string; env?: Record<string, string | undefined> } = {},
): {
  dir: string;
  create: boolean;
} {
  const env = options.env ?? process.env;
  const cwd = path.resolve(options.cwd ?? process.cwd());
  if (options.configDir) {
    const dir = path.resolve(cwd, options.configDir);
    if (!fs.existsSync(path.join(dir, CONFIG_FILE_NAME))) {
      throw new ConfigError(`--config ${options.configDir}: ${dir} has no ${CONFIG_FILE_NAME}`);
    }
    return { dir, create: false };
  }
  if (env.REDUN_CONFIG) {
    const dir = path.resolve(cwd, env.REDUN_CONFIG);
    if (!fs.existsSync(path.join(dir, CONFIG_FILE_NAME))) {
      throw new ConfigError(`REDUN_CONFIG=${env.REDUN_CONFIG}: ${dir} has no ${CONFIG_FILE_NAME}`);
    }
    return { dir, create: false };
  }
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, CONFIG_DIR_NAME);
    if (fs.existsSync(candidate) && fs.statSync(candidate).isDirectory())
      return { dir: candidate, create: false };
    if (path.dirname(dir) === dir) break;
  }
  return { dir: path.join(cwd, CONFIG_DIR_NAME), create: true };
}

/**
 * Finds and loads the configuration: `configDir` (the `--config` flag), then
 * `REDUN_CONFIG`, then the nearest `.redun/` from `cwd` upward; otherwise creates `.redun/`
 * in `cwd` with a default `redun.ini`.
 */
export function loadConfig(
  options: { configDir?: string; cwd?: string; env?: Record<string, string | undefined> } = {},
): Config {
  const { dir, create } = findConfigDir(options);
  const file = path.join(dir, CONFIG_FILE_NAME);
  if (create || !fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, DEFAULT_INI, { flag: "wx" });
  }
  return Config.fromDir(dir, options.env);
}
