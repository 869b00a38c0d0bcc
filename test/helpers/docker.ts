/**
 * A real Docker engine for tests, and small local images built without any registry.
 *
 * @example
 * let daemon: DockerDaemon;
 * before(async () => { daemon = await ensureDocker(); });   // throws DockerUnavailableError
 * after(() => daemon?.stop());
 * const image = await buildTestImage(daemon.host, { withProject: true });
 * // run docker with env DOCKER_HOST=daemon.host; containers use --network host.
 *
 * - `ensureDocker()` uses `REDUN_TEST_DOCKER_HOST` when it is set and answers; otherwise it
 *   installs Debian's docker.io when `dockerd` is missing (as root, once, under flock) and
 *   starts a private dockerd in a temp dir (`--bridge=none --iptables=false`, so several
 *   can run side by side). `stop()` stops that daemon and deletes its directory.
 *   When Docker truly cannot start, it throws {@link DockerUnavailableError}: tests then
 *   skip loudly with {@link skipWithoutDocker} — never pass silently.
 * - `buildTestImage(host, { withProject })` imports (`docker import`) a root filesystem of
 *   this machine's `node` and the libraries `ldd` lists, bash and a few coreutils, and with
 *   `withProject` the redun package at /opt/redun (with its production node_modules),
 *   `redun` on PATH, and a working directory /app whose node_modules/redun links to it.
 *   The tag is a hash of the inputs; the root filesystem tarball is cached in the temp dir.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestContext } from "node:test";
import { REPO } from "./cli.ts";

/** A Docker daemon the tests may use. */
export interface DockerDaemon {
  /** `DOCKER_HOST` value (`unix:///…/docker.sock`). */
  host: string;
  /** Stops the daemon if this helper started it (and deletes its directory). */
  stop(): Promise<void>;
}

/** Docker cannot run on this machine; the message says why. */
export class DockerUnavailableError extends Error {
  override name = "DockerUnavailableError";
}

const DOCKER = process.env.REDUN_DOCKER || "docker";
/** The runc wrapper every private daemon runs containers with (see scripts/runc-clamp). */
const CLAMP_RUNTIME = path.join(REPO, "scripts", "runc-clamp");

/** Whether a daemon answers at `host`. */
export function dockerAnswers(host: string): boolean {
  const r = spawnSync(DOCKER, ["version", "--format", "{{.Server.Version}}"], {
    env: { ...process.env, DOCKER_HOST: host },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 20_000,
  });
  return r.status === 0;
}

function which(cmd: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Installs docker.io (Debian) when dockerd is missing; once for parallel test files. */
function installDocker(): void {
  if (which("dockerd")) return;
  if (process.getuid?.() !== 0) {
    throw new DockerUnavailableError("dockerd is not installed and the tests do not run as root");
  }
  const script =
    "command -v dockerd >/dev/null || " +
    // Other suites may be installing packages at the same time (chromium, Kubernetes' build).
    "DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends docker.io || " +
    "(apt-get -o DPkg::Lock::Timeout=600 update && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends docker.io)";
  const r = spawnSync("flock", ["/tmp/redun-test-docker-install.lock", "sh", "-c", script], {
    encoding: "utf8",
    timeout: 600_000,
  });
  if (!which("dockerd")) {
    throw new DockerUnavailableError(
      `installing docker.io failed (exit ${r.status}): ${(r.stderr || r.stdout || "").slice(-1500)}`,
    );
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A Docker daemon: the shared one (REDUN_TEST_DOCKER_HOST) or a private one started here. */
export async function ensureDocker(): Promise<DockerDaemon> {
  const shared = process.env.REDUN_TEST_DOCKER_HOST;
  if (shared && dockerAnswers(shared)) return { host: shared, stop: async () => {} };
  if (!which(DOCKER))
    throw new DockerUnavailableError(`the docker client (${DOCKER}) is not installed`);
  installDocker();
  if (!(fs.statSync(CLAMP_RUNTIME).mode & 0o111)) fs.chmodSync(CLAMP_RUNTIME, 0o755);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "redun-dockerd-"));
  const host = `unix://${dir}/docker.sock`;
  const logFile = path.join(dir, "dockerd.log");
  const log = fs.openSync(logFile, "a");
  const child = spawn(
    "dockerd",
    [
      "--host",
      host,
      "--data-root",
      path.join(dir, "data"),
      "--exec-root",
      path.join(dir, "exec"),
      "--pidfile",
      path.join(dir, "dockerd.pid"),
      "--bridge=none",
      "--iptables=false",
      // The Kubernetes tests' kubelet runs pods on this daemon; its negative oom_score_adj
      // cannot be set here, and scripts/runc-clamp raises it to 0 (no other effect).
      "--add-runtime",
      `clamp=${CLAMP_RUNTIME}`,
      "--default-runtime",
      "clamp",
    ],
    { stdio: ["ignore", log, log], detached: false },
  );
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const cleanup = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
      await exited;
      clearTimeout(timer);
    }
    // Leftover mounts under the data root (a daemon killed hard) would make rm fail.
    spawnSync("sh", [
      "-c",
      `grep -o ' ${dir}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`,
    ]);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (fs.existsSync(path.join(dir, "docker.sock")) && dockerAnswers(host)) {
      return { host, stop: cleanup };
    }
    await sleep(250);
  }
  const tail = fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").slice(-2000) : "";
  await cleanup();
  throw new DockerUnavailableError(`dockerd did not start (${host}):\n${tail}`);
}

/**
 * Skips the test loudly (on standard error and in the report) when Docker is unavailable;
 * rethrows any other error.
 */
export function skipWithoutDocker(t: TestContext, error: unknown): void {
  if (!(error instanceof DockerUnavailableError)) throw error;
  process.stderr.write(`\n!!! SKIPPING DOCKER TESTS: ${error.message}\n\n`);
  t.skip(`Docker is unavailable: ${error.message.split("\n")[0]}`);
}

/** The shared libraries (and loader) an executable needs, from ldd. */
function lddLibraries(binary: string): string[] {
  const out = execFileSync("ldd", [binary], { encoding: "utf8" });
  const libs = new Set<string>();
  for (const line of out.split("\n")) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (match) libs.add(match[1]!);
  }
  return [...libs];
}

/** Copies a file to the same path under root, and the real file behind a link. */
function copyInto(root: string, file: string, as = file): void {
  const target = path.join(root, as);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(fs.realpathSync(file), target);
  fs.chmodSync(target, fs.statSync(fs.realpathSync(file)).mode & 0o7777);
}

const TOOLS = ["bash", "cat", "echo", "ls", "mkdir", "rm", "env", "sleep", "touch", "wc", "id"];
/** Compiles redun's sources once (oneshot, and all of `import "redun"`). */
const WARM_SCRIPT =
  "redun oneshot --input /none; node --import /opt/redun/dist/loader/register.mjs " +
  "--input-type=module -e \"await import('redun')\"";
/** Dev dependencies left out of the image's node_modules. */
const DEV_ONLY = ["prettier", "@types"];

function hashTree(hash: ReturnType<typeof createHash>, dir: string): void {
  for (const entry of fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) hashTree(hash, p);
    else if (entry.isFile()) hash.update(p).update(fs.readFileSync(p));
  }
}

/** What the image is made of: decides its tag. */
function imageInputs(withProject: boolean): { tag: string; node: string; tools: string[] } {
  const node = fs.realpathSync(process.execPath);
  const tools = TOOLS.map((t) => which(t)).filter((t): t is string => Boolean(t?.startsWith("/")));
  const hash = createHash("sha256").update(`v1 ${withProject}`);
  for (const f of [node, ...tools]) {
    const st = fs.statSync(f);
    hash.update(`${f} ${st.size} ${st.mtimeMs}`);
  }
  if (withProject) {
    for (const f of ["package.json", "package-lock.json"])
      hash.update(fs.readFileSync(path.join(REPO, f)));
    hashTree(hash, path.join(REPO, "dist"));
    hashTree(hash, path.join(REPO, "bin"));
  }
  const digest = hash.digest("hex").slice(0, 16);
  return { tag: `redun-test-${withProject ? "project" : "bare"}:${digest}`, node, tools };
}

/** Writes the root filesystem tarball (cached by tag) and returns its path. */
function buildRootfsTarball(
  tag: string,
  node: string,
  tools: string[],
  withProject: boolean,
): string {
  const cacheDir = path.join(os.tmpdir(), "redun-test-images");
  fs.mkdirSync(cacheDir, { recursive: true });
  const tarball = path.join(cacheDir, `${tag.replace(/[:/]/g, "_")}.tar`);
  if (fs.existsSync(tarball)) return tarball;
  const root = fs.mkdtempSync(path.join(cacheDir, "rootfs-"));
  try {
    copyInto(root, node, "/usr/local/bin/node");
    const libs = new Set<string>(lddLibraries(node));
    for (const tool of tools) {
      copyInto(root, tool, path.join("/bin", path.basename(tool)));
      for (const lib of lddLibraries(tool)) libs.add(lib);
    }
    for (const lib of libs) copyInto(root, lib);
    fs.symlinkSync("bash", path.join(root, "bin", "sh"));
    // /lib64 → the loader's usual place, whatever path ldd printed.
    for (const d of ["tmp", "app", "etc", "root"])
      fs.mkdirSync(path.join(root, d), { recursive: true });
    fs.chmodSync(path.join(root, "tmp"), 0o1777);
    fs.writeFileSync(path.join(root, "etc", "passwd"), "root:x:0:0:root:/root:/bin/bash\n");
    fs.writeFileSync(path.join(root, "etc", "group"), "root:x:0:\n");
    if (withProject) {
      const opt = path.join(root, "opt", "redun");
      fs.mkdirSync(opt, { recursive: true });
      for (const f of ["package.json", "bin", "dist"]) {
        fs.cpSync(path.join(REPO, f), path.join(opt, f), { recursive: true });
      }
      // node_modules may be a link to a shared install (scripts/test-other-nodes.sh): copy
      // what it points at, not the link.
      const modules = fs.realpathSync(path.join(REPO, "node_modules"));
      fs.cpSync(modules, path.join(opt, "node_modules"), {
        recursive: true,
        filter: (src) => !DEV_ONLY.some((d) => src === path.join(modules, d)),
      });
      const wrapper = path.join(root, "usr", "local", "bin", "redun");
      fs.writeFileSync(
        wrapper,
        '#!/bin/sh\nexec /usr/local/bin/node /opt/redun/bin/redun.mjs "$@"\n',
      );
      fs.chmodSync(wrapper, 0o755);
      fs.mkdirSync(path.join(root, "app", "node_modules"), { recursive: true });
      fs.symlinkSync("/opt/redun", path.join(root, "app", "node_modules", "redun"));
    }
    const partial = `${tarball}.${process.pid}.partial`;
    execFileSync("tar", ["-C", root, "--numeric-owner", "-cf", partial, "."]);
    fs.renameSync(partial, tarball);
    // Older tarballs of the same kind (earlier sources) would pile up in the temp dir.
    const kind = path.basename(tarball).split("_")[0]!;
    for (const f of fs.readdirSync(cacheDir)) {
      if (f.startsWith(`${kind}_`) && f.endsWith(".tar") && path.join(cacheDir, f) !== tarball) {
        fs.rmSync(path.join(cacheDir, f), { force: true });
      }
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  return tarball;
}

/**
 * A local image with node (and with `withProject`, the redun package and `redun` on PATH),
 * imported into the daemon at `host` unless it is there already. Returns its tag.
 */
export async function buildTestImage(
  host: string,
  options: { withProject: boolean },
): Promise<string> {
  const { tag, node, tools } = imageInputs(options.withProject);
  const env = { ...process.env, DOCKER_HOST: host };
  const present = spawnSync(DOCKER, ["image", "inspect", tag], { env, stdio: "ignore" });
  if (present.status === 0) return tag;
  const tarball = buildRootfsTarball(tag, node, tools, options.withProject);
  execFileSync(
    DOCKER,
    [
      "import",
      "--change",
      "WORKDIR /app",
      "--change",
      "ENV PATH=/usr/local/bin:/usr/bin:/bin",
      tarball,
      tag,
    ],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  if (options.withProject) {
    // Warm tsx's compile cache (/tmp/tsx-UID) once and keep it in the image: every
    // container would otherwise compile redun's sources again (seconds per job).
    const name = `redun-warm-${process.pid}-${Date.now()}`;
    spawnSync(DOCKER, ["run", "--name", name, "--network", "none", tag, "sh", "-c", WARM_SCRIPT], {
      env,
      stdio: "ignore",
    });
    execFileSync(DOCKER, ["commit", name, tag], { env, stdio: ["ignore", "pipe", "pipe"] });
    spawnSync(DOCKER, ["rm", "-f", name], { env, stdio: "ignore" });
  }
  return tag;
}
