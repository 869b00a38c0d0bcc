/** The commented `redun.ini` that a new configuration directory gets. */

/** The `redun.ini` written into a new configuration directory. */
export const DEFAULT_INI = `# redun configuration: see the configuration reference for every section and option.
# Values may use \${name} (same section, [DEFAULT], then the environment) and
# \${section:name}; write $$ for a literal dollar sign.

[backend]
# Relative sqlite paths are relative to this directory.
db_uri = sqlite:///redun.db
# db_uri = postgresql://host:5432/redun   (credentials come from the variables below)
# db_username_env = REDUN_DB_USERNAME
# db_password_env = REDUN_DB_PASSWORD
# db_aws_secret_name = my-rds-secret
# automigrate = true                      (default true for sqlite, false otherwise)
# max_value_size = 1000000000
# value_store_path = values/              (or s3://bucket/prefix/)
# value_store_min_size = 1000000
# While the database is unreachable, records wait in memory and writes are retried for up
# to db_retry_max_wait seconds (and db_retries tries); then the run fails, naming the database.
# db_retries = 1000
# db_retry_max_wait = 300

[scheduler]
# job_status_interval = 20
# ignore_warnings = namespace
# setup_scheduler = ../workflow.ts::setup_scheduler
# federated_configs = ../other/.redun
# context = {"genome": "hg38"}         (for getContext(); a JSON object)
# context_file = context.json          (or: a JSON file, relative to this directory)

[executors.default]
type = local
# mode = thread        (thread, process, or inline: the scheduler's own event loop)
max_workers = 20
# Without a section, "default" is a local thread pool and "process" a local process
# pool (type = local, mode = process); a section of either name replaces it.

# [executors.procs]
# type = local
# mode = process
# max_workers = 4

# [executors.other_name]
# type = alias
# target = procs

# [executors.docker]
# type = docker
# image = my-image
# scratch = scratch/

# [executors.batch]
# type = aws_batch
# image = 123456789012.dkr.ecr.us-west-2.amazonaws.com/my-image
# queue = my-queue
# s3_scratch = s3://my-bucket/redun/
# role = \${REDUN_ROLE}
# vcpus = 1
# memory = 4

# [executors.glue]
# type = aws_glue
# s3_scratch = s3://my-bucket/redun/
# workers = 10
# worker_type = G.1X

# [executors.k8s]
# type = k8s
# image = my-image
# scratch = s3://my-bucket/redun/
# namespace = default

# [limits]
# db = 10

# [federated_tasks.my_entrypoint]
# namespace = acme
# task_name = main
# load_module = workflow
# executor = batch
# config_dir = .redun
`;
