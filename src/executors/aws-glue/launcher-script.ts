/**
 * The Glue job script: a short Python program, uploaded to `s3_scratch` by content hash, that
 * Glue runs for every job run of redun's job definitions. It reads its `--name value`
 * arguments (Glue's own `--JOB_RUN_ID`, `--JOB_NAME` among them) and, by `--redun-mode`:
 *
 * - `task`: downloads the Node runtime and the redun runtime (tarballs named by content
 *   hash, cached in the worker's temporary directory), then runs
 *   `node …/redun/glue-oneshot.js --input … [--code …]` in the driver, which writes output,
 *   error and status to scratch like every remote job; its output goes to the run's log and
 *   to the job's `log` file in scratch.
 * - `spark`: runs the PySpark source of a `sparkScript()` call in the driver with `spark`,
 *   `sc`, `glueContext`, `inputs` and `outputs` bound, and writes its `result` (or nothing:
 *   the outputs are the result) as the job's output.
 *
 * A failed task makes the script raise, so Glue records the run as FAILED.
 */
import { createHash } from "node:crypto";

/** The Python source of the launcher. */
export const LAUNCHER_SOURCE = String.raw`# redun launcher for AWS Glue: runs one redun job in the Glue driver (made by redun).
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import traceback

CACHE = os.path.join(tempfile.gettempdir(), "redun-glue")


def parse_args(argv):
    out = {}
    i = 0
    while i < len(argv):
        word = argv[i]
        if word.startswith("--"):
            key = word[2:]
            if "=" in key:
                key, value = key.split("=", 1)
                out[key] = value
            elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                out[key] = argv[i + 1]
                i += 1
            else:
                out[key] = ""
        i += 1
    return out


def s3_client():
    import boto3

    return boto3.client("s3")


def split_s3(uri):
    rest = uri[len("s3://"):]
    bucket, _, key = rest.partition("/")
    return bucket, key


def read_bytes(uri):
    if uri.startswith("s3://"):
        bucket, key = split_s3(uri)
        return s3_client().get_object(Bucket=bucket, Key=key)["Body"].read()
    with open(uri, "rb") as f:
        return f.read()


def write_bytes(uri, data):
    if uri.startswith("s3://"):
        bucket, key = split_s3(uri)
        s3_client().put_object(Bucket=bucket, Key=key, Body=data)
        return
    os.makedirs(os.path.dirname(uri), exist_ok=True)
    with open(uri, "wb") as f:
        f.write(data)


def sibling(uri, name):
    return uri.rsplit("/", 1)[0] + "/" + name


def fetch_tarball(uri):
    """Downloads and unpacks a tarball once per worker (its name holds its content hash)."""
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    for ext in (".tar.gz", ".tgz", ".tar.xz", ".tar"):
        if name.endswith(ext):
            name = name[: -len(ext)]
    dest = os.path.join(CACHE, name)
    if os.path.exists(os.path.join(dest, ".redun-complete")):
        return dest
    os.makedirs(CACHE, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=CACHE)
    archive = os.path.join(tmp, ".archive")
    with open(archive, "wb") as f:
        f.write(read_bytes(uri))
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "fully_trusted_filter"):
            tar.extractall(tmp, filter="fully_trusted")
        else:
            tar.extractall(tmp)
    os.remove(archive)
    open(os.path.join(tmp, ".redun-complete"), "w").close()
    try:
        os.rename(tmp, dest)
    except OSError:
        if not os.path.exists(os.path.join(dest, ".redun-complete")):
            raise
    return dest


def fetch_node(uri):
    """The Node runtime: a bare executable (named by its hash) or a tarball with bin/node."""
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    if not any(name.endswith(ext) for ext in (".tar.gz", ".tgz", ".tar.xz", ".tar")):
        path = os.path.join(CACHE, name, "bin", "node")
        if not os.path.exists(path):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = path + ".%d" % os.getpid()
            with open(tmp, "wb") as f:
                f.write(read_bytes(uri))
            os.chmod(tmp, 0o755)
            os.rename(tmp, path)
        return path
    return find_node(fetch_tarball(uri))


def find_node(root):
    for base, _dirs, files in os.walk(root):
        if "node" in files and os.path.basename(base) == "bin":
            path = os.path.join(base, "node")
            os.chmod(path, 0o755)
            return path
    raise RuntimeError("the Node runtime has no bin/node")


def run_task(args, env):
    node = fetch_node(args["node-runtime"])
    runtime = fetch_tarball(args["redun-runtime"])
    entry = os.path.join(runtime, "node_modules", "redun", "glue-oneshot.js")
    command = [node, entry, "--input", args["input"]]
    if args.get("code"):
        command += ["--code", args["code"]]
    esbuild = os.path.join(runtime, "node_modules", "@esbuild", "linux-x64", "bin", "esbuild")
    os.chmod(esbuild, 0o755)
    env["ESBUILD_BINARY_PATH"] = esbuild
    proc = subprocess.Popen(
        command, cwd=runtime, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    lines = []
    for raw in proc.stdout:
        line = raw.decode("utf-8", "replace")
        lines.append(line)
        sys.stdout.write(line)
        sys.stdout.flush()
    code = proc.wait()
    try:
        write_bytes(sibling(args["input"], "log"), "".join(lines).encode("utf-8"))
    except Exception as error:  # the log is a convenience: never hide the task's end
        sys.stderr.write("redun: cannot write the job's log: %s\n" % error)
    if code != 0:
        tail = "".join(lines[-5:]).strip()
        raise RuntimeError("redun oneshot exited with code %d: %s" % (code, tail))


def to_wire(value, where="result"):
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if value != value:
            return {"$t": "num", "v": "NaN"}
        if value in (float("inf"), float("-inf")):
            return {"$t": "num", "v": "Infinity" if value > 0 else "-Infinity"}
        return value
    if isinstance(value, (list, tuple)):
        return [to_wire(v, "%s[%d]" % (where, i)) for i, v in enumerate(value)]
    if isinstance(value, dict):
        out = {str(k): to_wire(v, "%s.%s" % (where, k)) for k, v in value.items()}
        return {"$t": "obj", "v": out} if "$t" in out else out
    raise TypeError(
        "%s is a %s: a sparkScript result must be JSON data" % (where, type(value).__name__)
    )


def run_spark(args):
    input_uri = args["input"]
    status = sibling(input_uri, "status")
    write_bytes(status, b"RUNNING")
    try:
        job = json.loads(read_bytes(input_uri).decode("utf-8"))
        from pyspark.context import SparkContext
        from awsglue.context import GlueContext

        sc = SparkContext.getOrCreate()
        glue_context = GlueContext(sc)
        scope = {
            "__name__": "__redun_spark__",
            "spark": glue_context.spark_session,
            "sc": sc,
            "glueContext": glue_context,
            "inputs": job.get("inputs"),
            "outputs": job.get("outputs"),
        }
        print("[redun] sparkScript: running %d lines of PySpark" % len(job["source"].splitlines()))
        exec(compile(job["source"], "<sparkScript>", "exec"), scope)
        wire = to_wire(scope["result"]) if "result" in scope else {"$t": "undef"}
        write_bytes(sibling(input_uri, "output"), json.dumps(wire).encode("utf-8"))
        write_bytes(status, b"DONE")
    except BaseException as error:
        message = "%s: %s" % (type(error).__name__, error)
        wire = {
            "$t": "error",
            "classes": ["SparkScriptError", "RedunError"],
            "name": "SparkScriptError",
            "message": message,
            "stack": "SparkScriptError: %s\n%s" % (message, traceback.format_exc()),
            "props": {},
        }
        write_bytes(sibling(input_uri, "error"), json.dumps(wire).encode("utf-8"))
        write_bytes(status, b"FAILED")
        raise


def main():
    args = parse_args(sys.argv[1:])
    extra = json.loads(args.get("redun-env") or "{}")
    os.environ.update(extra)
    env = dict(os.environ)
    env["REDUN_GLUE_JOB_RUN_ID"] = args.get("JOB_RUN_ID", "")
    env["REDUN_GLUE_JOB_NAME"] = args.get("JOB_NAME", "")
    env["REDUN_GLUE_WORKERS"] = args.get("redun-workers", "")
    env["REDUN_GLUE_WORKER_TYPE"] = args.get("redun-worker-type", "")
    if args.get("redun-mode") == "spark":
        run_spark(args)
    else:
        run_task(args, env)


main()
`;

/** The launcher's content hash (its name in scratch). */
export function launcherHash(): string {
  return createHash("sha256").update(LAUNCHER_SOURCE).digest("hex").slice(0, 16);
}
