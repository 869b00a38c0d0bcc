/**
 * A real Kubernetes cluster for the Kubernetes executor's tests: one private single-node
 * v1.20 cluster per test process, started on first use and torn down at exit.
 *
 * @example
 * let cluster: K8sCluster;
 * before(async () => { cluster = await ensureK8sCluster(); });   // throws K8sUnavailableError
 * // redun runs with KUBECONFIG=cluster.kubeconfig; pods run cluster.image (imagePullPolicy Never).
 * after(() => cluster?.stop());
 *
 * - `REDUN_TEST_KUBECONFIG` names an existing cluster instead: its node must run pods on the
 *   Docker daemon the tests use (`REDUN_TEST_DOCKER_HOST`, see ./docker.ts), where the test
 *   image is imported, and see this machine's temp directory (scratch as a hostPath).
 * - Otherwise: scripts/k8s-build.sh builds (or reuses, under a lock) the v1.20.2 server
 *   binaries from Debian's source package; ./docker.ts starts a private dockerd (its default
 *   runtime is scripts/runc-clamp, which the kubelet needs here); the static pause binary is
 *   imported as `k8s.gcr.io/pause:3.2`; scripts/k8s-up.sh starts etcd, the control plane and a
 *   kubelet on free 127.0.0.1 ports; scripts/k8s-down.sh stops everything and removes the
 *   pods' containers and the kubelet's mounts.
 * - When the cluster cannot start, {@link K8sUnavailableError} says why; tests then skip
 *   loudly with {@link skipWithoutK8s}, never pass.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestContext } from "node:test";
import { REPO } from "./cli.ts";
import { buildTestImage, ensureDocker, type DockerDaemon } from "./docker.ts";

/** A cluster the tests may use. */
export interface K8sCluster {
  kubeconfig: string;
  /** `DOCKER_HOST` of the node's container runtime. */
  dockerHost: string;
  /** An image with node and redun, present on the node. */
  image: string;
  /** The logs of the cluster's processes (for failure messages); empty for an external one. */
  logsDir: string;
  /** Stops the cluster if this helper started it (idempotent). */
  stop(): Promise<void>;
}

/** The cluster cannot start here; the message says why. */
export class K8sUnavailableError extends Error {
  override name = "K8sUnavailableError";
}

const BIN_DIR = process.env.REDUN_K8S_BIN || "/var/cache/redun-k8s-1.20.2";

/** Runs a command to its end (without blocking the event loop); output kept for errors. */
function runCommand(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", (error) => resolve({ code: -1, output: String(error) }));
    child.on("close", (code) => resolve({ code: code ?? -1, output }));
  });
}

async function buildBinaries(): Promise<void> {
  const r = await runCommand("bash", [path.join(REPO, "scripts", "k8s-build.sh")], {
    ...process.env,
    REDUN_K8S_BIN: BIN_DIR,
  });
  if (r.code !== 0) {
    throw new K8sUnavailableError(
      `scripts/k8s-build.sh failed (exit ${r.code}):\n${r.output.slice(-2000)}`,
    );
  }
}

/** Imports the static pause binary as the kubelet's pod sandbox image. */
function importPause(dockerHost: string): void {
  const env = { ...process.env, DOCKER_HOST: dockerHost };
  const present = spawnSync("docker", ["image", "inspect", "k8s.gcr.io/pause:3.2"], {
    env,
    stdio: "ignore",
  });
  if (present.status === 0) return;
  const tar = execFileSync("tar", ["-C", BIN_DIR, "-c", "pause"]);
  execFileSync(
    "docker",
    ["import", "--change", 'ENTRYPOINT ["/pause"]', "-", "k8s.gcr.io/pause:3.2"],
    { env, input: tar, stdio: ["pipe", "pipe", "pipe"] },
  );
}

async function startCluster(): Promise<K8sCluster> {
  const external = process.env.REDUN_TEST_KUBECONFIG;
  if (external) {
    const daemon = await ensureDocker();
    const image =
      process.env.REDUN_TEST_K8S_IMAGE ||
      (await buildTestImage(daemon.host, { withProject: true }));
    return {
      kubeconfig: external,
      dockerHost: daemon.host,
      image,
      logsDir: "",
      stop: () => daemon.stop(),
    };
  }
  if (process.getuid?.() !== 0) {
    throw new K8sUnavailableError("a private cluster needs root (kubelet, mounts)");
  }
  await buildBinaries();
  let daemon: DockerDaemon;
  try {
    daemon = await ensureDocker();
  } catch (error) {
    throw new K8sUnavailableError(`no Docker daemon for the kubelet: ${(error as Error).message}`);
  }
  const state = fs.mkdtempSync(path.join(os.tmpdir(), "redun-k8s-"));
  const sock = daemon.host.replace(/^unix:\/\//, "");
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      await runCommand("bash", [path.join(REPO, "scripts", "k8s-down.sh"), state, sock]);
      await daemon.stop();
    })());
  // A test process that ends without stop() (a crash) still removes the cluster.
  process.once("exit", () => {
    if (!stopped) spawnSync("bash", [path.join(REPO, "scripts", "k8s-down.sh"), state, sock]);
  });
  try {
    importPause(daemon.host);
    const image = await buildTestImage(daemon.host, { withProject: true });
    const up = await runCommand("bash", [
      path.join(REPO, "scripts", "k8s-up.sh"),
      BIN_DIR,
      state,
      sock,
    ]);
    if (up.code !== 0) {
      throw new K8sUnavailableError(
        `scripts/k8s-up.sh failed (exit ${up.code}):\n${up.output.slice(-3000)}`,
      );
    }
    return {
      kubeconfig: path.join(state, "kubeconfig"),
      dockerHost: daemon.host,
      image,
      logsDir: state,
      stop,
    };
  } catch (error) {
    await stop();
    throw error instanceof K8sUnavailableError
      ? error
      : new K8sUnavailableError(`the cluster did not start: ${(error as Error).message}`);
  }
}

let shared: Promise<K8sCluster> | undefined;

/**
 * The cluster of this test process (started on the first call; later calls share it).
 * It is stopped when the process exits, or by `stop()`.
 */
export function ensureK8sCluster(): Promise<K8sCluster> {
  if (!shared) {
    shared = startCluster();
    shared.then(
      (cluster) => {
        // Whatever the tests do, tear the cluster down before the process ends.
        process.once("beforeExit", () => void cluster.stop());
      },
      () => undefined,
    );
  }
  return shared;
}

/**
 * Skips the test loudly (on standard error and in the report) when the cluster is
 * unavailable; rethrows any other error.
 */
export function skipWithoutK8s(t: TestContext, error: unknown): void {
  if (!(error instanceof K8sUnavailableError)) throw error;
  process.stderr.write(`\n!!! SKIPPING KUBERNETES TESTS: ${error.message}\n\n`);
  t.skip(`Kubernetes is unavailable: ${error.message.split("\n")[0]}`);
}

/**
 * `redun` runs of the Kubernetes tests (with ./cli.ts's `startRedun`): `env` over the
 * machine's environment with every `AWS_*` variable and `KUBECONFIG` blanked, so nothing of
 * the machine's own credentials reaches a cluster's Secret.
 */
export function k8sRunEnv(env: Record<string, string>): Record<string, string> {
  const blank = Object.keys(process.env).filter((k) => /^AWS_/.test(k) || k === "KUBECONFIG");
  return { ...Object.fromEntries(blank.map((k) => [k, ""])), ...env };
}

/** Whether a started process is still running. */
export function running(child: import("node:child_process").ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Waits (generously: this is no timing assertion) until `predicate` holds. */
export async function waitUntil(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  ms = 300_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
