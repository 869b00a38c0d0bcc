/**
 * A real browser for the web UI's tests: headless Chromium from Debian's `chromium` package,
 * driven by playwright-core through its `executablePath` (nothing downloads a browser).
 *
 * @example
 * const browser = await launchBrowser();            // installs chromium with apt-get if missing
 * const { page, errors } = await newPage(browser);  // errors: console errors and page errors
 * await page.goto(url);
 *
 * - `REDUN_TEST_CHROMIUM=/path/to/chrome` uses another Chromium build.
 * - When /usr/bin/chromium is missing and we are root, `apt-get install -y chromium`
 *   installs it (with an `apt-get update` first if that fails), once, under a lock.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { BIN } from "./cli.ts";

const CHROMIUM = process.env.REDUN_TEST_CHROMIUM || "/usr/bin/chromium";

/** Installs Debian's chromium when it is missing (as root, under a lock). */
export function ensureChromium(): string {
  if (fs.existsSync(CHROMIUM)) return CHROMIUM;
  const script = [
    "set -e",
    `test -x ${CHROMIUM} && exit 0`,
    "apt='apt-get -o DPkg::Lock::Timeout=300 -y -q'",
    "$apt install --no-install-recommends chromium || { $apt update && $apt install --no-install-recommends chromium; }",
  ].join("\n");
  const result = spawnSync(
    "flock",
    [path.join(os.tmpdir(), "redun-test-chromium-install.lock"), "sh", "-c", script],
    {
      encoding: "utf8",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      timeout: 900_000,
    },
  );
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `installing chromium failed (exit ${result.status ?? result.signal}): ` +
        (result.stderr || result.stdout || "").slice(-1500),
    );
  }
  return CHROMIUM;
}

/** Launches headless Chromium. */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: ensureChromium(),
    headless: true,
    // Root in a container: Chromium's sandbox needs user namespaces it may not have.
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
}

/** A page, and the errors it reported (console errors, uncaught exceptions, dialogs). */
export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions, in order. */
  errors: string[];
  /** Messages of the dialogs (alert, confirm, prompt) the page opened: there should be none. */
  dialogs: string[];
}

/** Opens a page in a new context that records its errors and dialogs. */
export async function newPage(browser: Browser): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.setDefaultTimeout(30_000);
  return { page, errors, dialogs };
}

/** A `redun server` started in a project directory. */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** What it printed so far. */
  output(): { stdout: string; stderr: string };
  stop(): Promise<void>;
}

/**
 * Starts `redun server --port 0` (any free port) in `dir` and waits for the address it
 * prints. Rejects with its output when it exits first (or prints nothing for 60 s).
 */
export function startServer(
  dir: string,
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [BIN, "server", "--port", "0", ...args], {
    cwd: dir,
    env: { ...process.env, REDUN_CONFIG: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`redun server printed no address:\n${stdout}\n${stderr}`));
    }, 60_000);
    child.stderr!.on("data", (d) => (stderr += d));
    child.stdout!.on("data", (d) => {
      stdout += d;
      const match = /serving (http:\/\/\S+)/.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      resolve({
        url: match[1]!,
        child,
        output: () => ({ stdout, stderr }),
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`redun server exited (${code}) before serving:\n${stdout}\n${stderr}`));
    });
  });
}

/**
 * The web UI tests' workflow (written into each test project as wf.ts): a nested tree
 * (main → mid → leaf, leaf → add), a failing task, a task that echoes a text (the XSS case), and a
 * fan-out that waits for a gate file (a run in progress, for live updates).
 */
export const UI_WORKFLOW = `import fs from "node:fs";
import { namespace } from "redun";

const { task } = namespace("ui");

export const leaf = task(function leaf(x: number) {
  return x + 1;
});

export const add = task(function add(a: number, b: number) {
  return a + b;
});

export const mid = task(function mid(x: number) {
  const a = leaf(x);
  const b = leaf(x * 10);
  return [a, b, add(a, b)];
});

export const echo = task(function echo(text: string) {
  return \`got \${text}\`;
});

export const main = task(function main(x: number, text: string) {
  return { m: mid(x), e: echo(text) };
});

export const boom = task(function boom(x: number) {
  if (x > 2) throw new Error(\`x is too big: \${x}\`);
  return x;
});

export const failing = task(function failing(x: number) {
  return [leaf(x), boom(x)];
});

export const waitStep = task(async function waitStep(i: number, gate: string) {
  while (!fs.existsSync(gate)) await new Promise((resolve) => setTimeout(resolve, 100));
  return i;
});

export const slow = task(function slow(n: number, gate: string) {
  return Array.from({ length: n }, (_, i) => waitStep(i, gate));
});
`;
